"""Model files are untrusted input: every tampering of a trained run's model.json or model.npz
makes ``eval``, ``predict`` and ``show`` exit 2 with one line naming the file, and leaves the
run directory exactly as it was.

One real run per kind is trained per module (classification with a text feature, fill values,
class weights and batchnorm state; regression; a 2-member ensemble); each case copies it and
tampers with the copy.
"""

import io
import json
import math
import os
import shutil
import zipfile

import numpy as np
import pandas as pd
import pytest
from conftest import cli

from nnfit.store.model_schema import layouts


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("tamper")
    rng = np.random.default_rng(0)
    n = 90
    x = rng.uniform(0, 1, n)
    colour = rng.choice(["red", "green", "blue"], n)
    frame = pd.DataFrame({"x": x, "colour": colour,
                          "label": np.where(x < 0.33, "low", np.where(x < 0.66, "mid", "high")),
                          "y": x + (colour == "red")})
    frame.loc[3, "x"] = np.nan  # data.missing: mean stores fill values
    data = root / "train.csv"
    frame.to_csv(data, index=False)
    configs = {
        "cls": "data: {target: label, exclude: [y], missing: mean}\n"
               "model: {layers: [{type: dense, units: 8, activation: relu}, {type: batchnorm}]}\n"
               "training: {class_weight: balanced}\n",
        "reg": "data: {target: y, exclude: [label], missing: mean}\n"
               "model: {layers: [{type: dense, units: 4, activation: tanh}]}\n",
        "ens": "data: {target: label, exclude: [y], missing: mean}\n"
               "model: {layers: [{type: dense, units: 4, activation: relu}]}\n"
               "training: {ensemble: 2}\n",
    }
    out = {}
    for kind, text in configs.items():
        config = root / f"{kind}.yaml"
        config.write_text(text)
        run = root / kind
        jobs = ("--jobs", "1") if kind == "ens" else ()
        done = cli("train", config, data, "--out", run, "--epochs", "2", *jobs, "-q")
        assert done.returncode == 0, done.stderr
        out[kind] = run
    out["data"] = data
    return out


# -- tampering helpers ------------------------------------------------------------------------
def edit(change):
    """Change model.json as data: ``change(meta)`` edits it in place."""
    def tamper(run):
        meta = json.loads((run / "model.json").read_text())
        change(meta)
        (run / "model.json").write_text(json.dumps(meta))
    return tamper


def replace(make):
    """model.json becomes ``make(meta)``."""
    def tamper(run):
        (run / "model.json").write_text(json.dumps(make(json.loads((run / "model.json").read_text()))))
    return tamper


def text(change):
    """Change model.json as text."""
    def tamper(run):
        (run / "model.json").write_text(change((run / "model.json").read_text()))
    return tamper


def arrays(change):
    """Rewrite model.npz from ``change({name: array})`` (object arrays allowed in)."""
    def tamper(run):
        with np.load(run / "model.npz") as npz:
            members = {name: npz[name] for name in npz.files}
        buffer = io.BytesIO()
        np.savez(buffer, **change(members))
        (run / "model.npz").write_bytes(buffer.getvalue())
    return tamper


def first_number_of(key, value):
    """model.json as text, with the first number after ``key`` replaced by ``value``."""
    def change(t):
        at = t.index(key)
        start = at + next(i for i, ch in enumerate(t[at:]) if ch in "-0123456789")
        end = start + next(i for i, ch in enumerate(t[start:]) if ch in ",\n]")
        return t[:start] + value + t[end:]
    return text(change)


def raw(name, change):
    """Change a file's bytes."""
    def tamper(run):
        (run / name).write_bytes(change((run / name).read_bytes()))
    return tamper


def delete(*path):
    def change(meta):
        target = meta
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]
    return edit(change)


def setting(value, *path):
    def change(meta):
        target = meta
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    return edit(change)


def symlinked(name):
    def tamper(run):
        outside = run.parent / f"{run.name}-outside-{name}"
        shutil.move(run / name, outside)
        os.symlink(outside, run / name)
    return tamper


def fifo(run):
    (run / "model.json").unlink()
    os.mkfifo(run / "model.json")


def huge_json(run):
    with open(run / "model.json", "r+b") as fh:
        fh.seek(0, 2)
        fh.truncate(51 * 2**20)  # sparse: cheap to make, and refused before it is read


def consistent(meta, layers):
    """``meta`` with these layers and the layouts and n_params they imply (a careful forgery)."""
    arch = meta["architecture"]
    arch["layers"] = layers
    planned = layouts(layers, tuple(arch["input_shape"]), arch["dtype"])
    arch["n_params"] = planned.n_params
    meta["layout"], meta["state_layout"] = planned.layout, planned.state_layout


def huge_layer(meta):
    layers = meta["architecture"]["layers"]
    consistent(meta, [{**layers[0], "units": 10**12}] + layers[1:])


def wider_output(meta):
    layers = meta["architecture"]["layers"]
    consistent(meta, layers[:-1] + [{**layers[-1], "units": layers[-1]["units"] + 1}])


def nan_at(name, index=0, value=np.nan):
    def change(members):
        members[name] = members[name].copy()
        members[name].reshape(-1)[index] = value
        return members
    return arrays(change)


def npy_member(name, array, version):
    """model.npz with member ``name`` written by numpy's .npy writer at a given format version."""
    def tamper(run):
        with np.load(run / "model.npz") as npz:
            members = {n: npz[n] for n in npz.files}
        members[name] = array(members[name])
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            for n, a in members.items():
                member = io.BytesIO()
                np.lib.format.write_array(member, a, version=version)
                archive.writestr(f"{n}.npy", member.getvalue())
        (run / "model.npz").write_bytes(buffer.getvalue())
    return tamper


def huge_header(run):
    """params.npy whose header claims 10¹² numbers, followed by a few bytes."""
    with np.load(run / "model.npz") as npz:
        state = npz["state"]
    member = io.BytesIO()
    np.lib.format.write_array_header_1_0(member, {"descr": "<f4", "fortran_order": False,
                                                  "shape": (10**12,)})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("params.npy", member.getvalue() + b"\0" * 16)
        archive.writestr("state.npy", _npy(state))
    (run / "model.npz").write_bytes(buffer.getvalue())


def _npy(array) -> bytes:
    member = io.BytesIO()
    np.lib.format.write_array(member, array)
    return member.getvalue()


def short_member(run):
    """params.npy whose header promises more data than the member holds (a consistent zip)."""
    with np.load(run / "model.npz") as npz:
        members = {n: npz[n] for n in npz.files}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for n, a in members.items():
            member = io.BytesIO()
            np.lib.format.write_array(member, a)
            data = member.getvalue()
            archive.writestr(f"{n}.npy", data[:-8] if n == "params" else data)
    (run / "model.npz").write_bytes(buffer.getvalue())


def flip_last_data_byte(data: bytes) -> bytes:
    """Flip a bit inside the last member's data: the zip still opens, its CRC no longer matches."""
    archive = zipfile.ZipFile(io.BytesIO(data))
    last = archive.infolist()[-1]
    at = last.header_offset + 30 + len(last.filename.encode()) + len(last.extra) + last.file_size - 1
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1:]


def nested(depth):
    return replace(lambda meta: {**meta, "preprocessing": json.loads("[" * depth + "]" * depth)})


J, Z = "model.json", "model.npz"
CASES = [
    # (id, run kind, tampering, file named, what the line says after "FILE: ")
    # -- the files themselves
    ("json missing", "cls", lambda run: (run / J).unlink(), None, "model.json is missing"),
    ("npz missing", "cls", lambda run: (run / Z).unlink(), None, "model.npz is missing"),
    ("json symlinked", "cls", symlinked(J), J, "is a symbolic link; nnfit reads a run's files "
                                               "only from inside its directory"),
    ("npz symlinked", "cls", symlinked(Z), Z, "is a symbolic link"),
    ("json is a fifo", "cls", fifo, J, "is not a regular file"),
    ("json huge", "cls", huge_json, J, "51 MB, larger than the 50 MB a run's model.json may be; "
                                       "refused without reading it"),
    # -- not JSON, or not the JSON nnfit writes
    ("json garbage", "cls", text(lambda t: t[: len(t) // 2]), J, "not valid JSON ("),
    ("json not utf-8", "cls", raw(J, lambda b: b"\xff\xfe" + b), J, "not valid JSON (not UTF-8"),
    ("json NaN stat", "cls", first_number_of('"numeric"', "NaN"), J,
     "not valid JSON (NaN is not a JSON number)"),
    ("json overflowing number", "reg", first_number_of('"target_scale"', "1e999"), J,
     "not valid JSON (the number 1e999 is too large for a float)"),
    ("json duplicate key", "cls", text(lambda t: t.replace('"loss": ', '"loss": "mse", "loss": ', 1)),
     J, "not valid JSON (the key 'loss' is given twice in one object)"),
    ("json deep nesting", "cls", text(lambda t: "[" * 100_000 + "]" * 100_000), J,
     "not valid JSON (nested too deeply to read)"),
    ("json a list", "cls", text(lambda t: "[1, 2]"), J, "must be a JSON object with format_version"),
    ("nested preprocessing", "cls", nested(500), J,
     "preprocessing: must be a mapping of keys (got [[[[["),
    # -- format version
    ("format_version missing", "cls", delete("format_version"), J, "format_version is missing"),
    ("format_version text", "cls", setting("1", "format_version"), J,
     "format_version is not an integer ('1')"),
    ("format_version newer", "cls", replace(lambda m: {**m, "format_version": 2, "nnfit_version": "9.1",
                                                    "new_key": {}}), J,
     "model format version 2 is newer than this nnfit reads: written by nnfit 9.1, this nnfit"),
    ("format_version older", "cls", setting(0, "format_version"), J,
     "model format version 0 is not one this nnfit"),
    # -- every required key missing, and keys no nnfit writes
    *[(f"{'.'.join(path)} missing", kind, delete(*path), J, f"{'.'.join(path)}: required key is missing")
      for kind, path in [("cls", ("nnfit_version",)), ("cls", ("architecture",)),
                         ("cls", ("layout",)), ("cls", ("loss",)), ("cls", ("preprocessing",)),
                         ("cls", ("architecture", "input_shape")), ("cls", ("architecture", "layers")),
                         ("cls", ("architecture", "dtype")), ("cls", ("architecture", "n_params")),
                         ("cls", ("preprocessing", "task")), ("cls", ("preprocessing", "targets")),
                         ("cls", ("preprocessing", "features"))]],
    ("layout entry's name missing", "cls", edit(lambda m: m["layout"][0].pop("name")), J,
     "layout[0].name: required key is missing"),
    ("layer's units missing", "cls", edit(lambda m: m["architecture"]["layers"][0].pop("units")), J,
     "architecture.layers[0].units: required key is missing"),
    ("numeric stats missing", "cls", delete("preprocessing", "numeric"), J,
     "preprocessing.features: 'x' needs scaling statistics (numeric) or categories"),
    ("categories missing", "cls", delete("preprocessing", "categorical"), J,
     "preprocessing.features: 'colour' needs scaling statistics (numeric) or categories"),
    ("classes missing", "cls", delete("preprocessing", "classes"), J,
     "preprocessing.classes: a classification needs at least 2 classes (got None)"),
    ("target_scale missing", "reg", delete("preprocessing", "target_scale"), J,
     "preprocessing.target_scale: must hold one [center, scale] per target (1) (got None)"),
    ("state_layout missing", "cls", delete("state_layout"), J,
     "state_layout: 0 entries; the layers have 2"),
    ("unknown key", "cls", setting(1, "extra"), J, "unknown key 'extra'"),
    ("misspelt key", "cls", replace(lambda m: {**{k: v for k, v in m.items() if k != "loss"},
                                            "los": m["loss"]}), J,
     "unknown key 'los' (did you mean 'loss'?) (and 1 more problem)"),
    ("unknown preprocessing key", "cls", setting(1, "preprocessing", "scal"), J,
     "preprocessing: unknown key 'scal' (did you mean 'scale'?)"),
    # -- wrong types, shapes and sizes in the architecture
    ("nnfit_version a number", "cls", setting(1, "nnfit_version"), J,
     "nnfit_version: must be text (got 1)"),
    ("input_shape text", "cls", setting("4", "architecture", "input_shape"), J,
     "architecture.input_shape: must be a list (got '4')"),
    ("input_shape negative", "cls", setting([-4], "architecture", "input_shape"), J,
     "architecture.input_shape[0]: must be positive (got -4)"),
    ("input width mismatch", "cls", setting([5], "architecture", "input_shape"), J,
     "architecture.input_shape: [5] does not match the preprocessing, which makes 4 inputs per row"),
    ("unknown layer type", "cls", setting({"type": "conv", "units": 3}, "architecture", "layers", 0), J,
     "architecture.layers[0]: unknown layer type 'conv'; choose from dense, activation"),
    ("negative units", "cls", setting(-3, "architecture", "layers", 0, "units"), J,
     "architecture.layers[0].units: must be a positive integer (got -3)"),
    ("units as text", "cls", setting("8", "architecture", "layers", 0, "units"), J,
     "architecture.layers[0].units: must be an integer (got '8')"),
    ("unknown layer option", "cls", setting(8, "architecture", "layers", 0, "unit"), J,
     "architecture.layers[0]: unknown key 'unit' (did you mean 'units'?)"),
    ("unknown activation", "cls", setting("relux", "architecture", "layers", 0, "activation"), J,
     "architecture.layers[0].activation: unknown activation 'relux'"),
    ("layers that do not fit", "cls", setting({"type": "pool"}, "architecture", "layers", 1), J,
     "architecture.layers[1]: pool takes tokens (tokens, dim), got (8,)"),
    ("attention ffn absurd", "cls", setting([{"type": "tokens", "dim": 4},
                                             {"type": "attention", "dim": 4, "ffn": 1e308},
                                             {"type": "pool"}, {"type": "dense", "units": 3}],
                                            "architecture", "layers"), J,
     "architecture.layers: cannot convert float infinity to integer"),
    ("no layers", "cls", setting([], "architecture", "layers"), J,
     "architecture.layers: must have at least 1 item (got [])"),
    ("huge units, n_params unchanged", "cls", setting(10**12, "architecture", "layers", 0, "units"), J,
     "architecture.n_params: 83 does not match its layers"),
    ("huge units, all consistent", "cls", edit(huge_layer), J, "loading needs "),
    ("output width mismatch", "cls", edit(wider_output), J,
     "architecture.layers: the network outputs [4] per row; a classification with cross_entropy "
     "and this preprocessing needs [3]"),
    ("dtype unknown", "cls", setting("float16", "architecture", "dtype"), J,
     "architecture.dtype: must be one of float32, float64 (got 'float16')"),
    ("n_params off by one", "cls", setting(84, "architecture", "n_params"), J,
     "architecture.n_params: 84 does not match its layers, which have 83"),
    ("n_params negative", "cls", setting(-1, "architecture", "n_params"), J,
     "architecture.n_params: must be at least 0 (got -1)"),
    # -- layouts
    ("layout offset", "cls", setting(33, "layout", 1, "offset"), J,
     "layout[1]: 2.W [8, 3] at 33 does not match the layers, which put 2.W [8, 3] at 32 there"),
    ("layout shape", "cls", setting([3, 8], "layout", 1, "shape"), J,
     "layout[1]: 2.W [3, 8] at 32 does not match the layers"),
    ("layout shape negative", "cls", setting([-8, 3], "layout", 1, "shape"), J,
     "layout[1].shape[0]: must be at least 0 (got -8)"),
    ("layout name", "cls", setting("9.W", "layout", 1, "name"), J, "layout[1]: 9.W [8, 3] at 32"),
    ("layout entry dropped", "cls", edit(lambda m: m["layout"].pop()), J,
     "layout: 5 entries; the layers have 6"),
    ("state_layout offset", "cls", setting(9, "state_layout", 1, "offset"), J,
     "state_layout[1]: 1.running_var [8] at 9 does not match the layers"),
    # -- loss and task
    ("unknown loss", "cls", setting("hinge", "loss"), J,
     "loss: must be one of mse, sse, rss, cross_entropy, binary_cross_entropy (got 'hinge')"),
    ("regression loss for classes", "cls", setting("mse", "loss"), J,
     "loss: mse is a regression loss, but the task is classification"),
    ("classification loss for regression", "reg", setting("cross_entropy", "loss"), J,
     "loss: cross_entropy is a classification loss, but the task is regression"),
    ("binary loss for 3 classes", "cls", setting("binary_cross_entropy", "loss"), J,
     "loss: binary_cross_entropy needs exactly 2 classes, the preprocessing has 3"),
    ("unknown task", "cls", setting("clustering", "preprocessing", "task"), J,
     "preprocessing.task: must be one of classification, regression (got 'clustering')"),
    ("task swapped", "cls", setting("regression", "preprocessing", "task"), J,
     "preprocessing.classes: must be null for a regression"),
    # -- preprocessing
    ("no targets", "cls", setting([], "preprocessing", "targets"), J,
     "preprocessing.targets: must have at least 1 item (got [])"),
    ("duplicate features", "cls", setting(["x", "x", "colour"], "preprocessing", "features"), J,
     "preprocessing.features: 'x' is listed twice"),
    ("feature not text", "cls", setting([1, "colour"], "preprocessing", "features"), J,
     "preprocessing.features[0]: must be text (got 1)"),
    ("target is a feature", "cls", setting(["x", "colour", "label"], "preprocessing", "features"), J,
     "preprocessing.features: 'label' is also a target"),
    ("zero scale", "cls", setting([0.5, 0.0], "preprocessing", "numeric", "x"), J,
     "preprocessing.numeric.x: must be [center, scale] with a positive scale (got [0.5, 0.0])"),
    ("negative scale", "cls", setting([0.5, -1.0], "preprocessing", "numeric", "x"), J,
     "preprocessing.numeric.x: must be [center, scale] with a positive scale"),
    ("stats not a pair", "cls", setting([0.5], "preprocessing", "numeric", "x"), J,
     "preprocessing.numeric.x: must have at least 2 items (got [0.5])"),
    ("stats for no feature", "cls", setting([0.0, 1.0], "preprocessing", "numeric", "z\nz"), J,
     "preprocessing.numeric: 'z\\nz' is not a feature"),
    ("categories not text", "cls", setting([1, 2], "preprocessing", "categorical", "colour"), J,
     "preprocessing.categorical.colour[0]: must be text (got 1)"),
    ("duplicate categories", "cls", setting(["red", "red", "blue"], "preprocessing", "categorical",
                                            "colour"), J,
     "preprocessing.categorical.colour: 'red' is listed twice"),
    ("text fill for a number", "cls", setting("zero", "preprocessing", "fill", "x"), J,
     "preprocessing.fill.x: must be a number for a numeric feature (got 'zero')"),
    ("duplicate classes", "cls", setting(["high", "high", "mid"], "preprocessing", "classes"), J,
     "preprocessing.classes: 'high' is listed twice"),
    ("one class", "cls", setting(["high"], "preprocessing", "classes"), J,
     "preprocessing.classes: a classification needs at least 2 classes (got ['high'])"),
    ("classes for regression", "reg", setting(["a", "b"], "preprocessing", "classes"), J,
     "preprocessing.classes: must be null for a regression"),
    ("NaN target_scale (null)", "reg", setting([[None, 1.0]], "preprocessing", "target_scale"), J,
     "preprocessing.target_scale[0][0]: must be a number (got None)"),
    ("zero target scale", "reg", setting([[0.0, 0.0]], "preprocessing", "target_scale"), J,
     "preprocessing.target_scale[0]: must be [center, scale] with a positive scale"),
    ("quantiles decreasing", "reg", setting([1.0, 0.5], "preprocessing", "quantiles", "x"), J,
     "preprocessing.quantiles.x: must be non-decreasing ([1] = 0.5 < [0] = 1.0)"),
    ("unknown scale", "reg", setting("robst", "preprocessing", "scale"), J,
     "preprocessing.scale: must be one of standard, minmax, robust, quantile, none (got 'robst')"),
    ("embedding with a bad sigma", "reg",
     setting({"type": "numeric_embedding", "kind": "plr", "frequencies": 4, "sigma": -1.0,
              "dim": 4, "lite": False}, "architecture", "layers", 0), J,
     "architecture.layers[0].sigma: must be positive (got -1.0)"),
    ("quantiles with scale robust", "reg",
     edit(lambda m: m["preprocessing"].update(scale="robust", quantiles={"x": [0.0, 1.0]})), J,
     "preprocessing.quantiles: given with scale: robust; only scale: quantile uses them"),
    ("bad delimiter", "cls", setting("ab", "preprocessing", "reading", "delimiter"), J,
     "preprocessing.reading.delimiter: must be one character"),
    ("bad encoding", "cls", setting("hex", "preprocessing", "reading", "encoding"), J,
     "preprocessing.reading.encoding: unknown encoding 'hex'"),
    ("huge list where text belongs", "cls", setting(list(range(100_000)), "nnfit_version"), J,
     "nnfit_version: must be text (got [0, 1, 2,"),
    # -- class weights, ensembles
    ("class_weight too short", "cls", setting([1.0, 2.0], "class_weight"), J,
     "class_weight: must be a list of 3 weights, one per class (got [1.0, 2.0])"),
    ("class_weight negative", "cls", setting([1.0, -2.0, 1.0], "class_weight"), J,
     "class_weight[1]: must be positive (got -2.0)"),
    ("class_weight for regression", "reg", setting([1.0], "class_weight"), J,
     "class_weight: given for a model without classes"),
    ("ensemble member count", "ens", setting(3, "ensemble", "members"), Z,
     "params has shape [2, 35]; the architecture in model.json needs [3, 35] (3 ensemble members × 35)"),
    ("ensemble of one", "ens", setting(1, "ensemble", "members"), J,
     "ensemble.members: must be at least 2 (got 1)"),
    ("single network called an ensemble", "cls", setting({"members": 2}, "ensemble"), Z,
     "params has shape [83]; the architecture in model.json needs [2, 83]"),
    # -- model.npz
    ("npz garbage", "cls", raw(Z, lambda b: b"not a zip at all"), Z,
     "unreadable or corrupted (BadZipFile: File is not a zip file)"),
    ("npz truncated", "cls", raw(Z, lambda b: b[: len(b) // 2]), Z, "unreadable or corrupted"),
    ("npz bit flipped", "cls", raw(Z, flip_last_data_byte), Z,
     "unreadable or corrupted (BadZipFile: Bad CRC-32 for file 'state.npy')"),
    ("npz member short", "cls", short_member, Z,
     "params is truncated or padded (324 bytes of data for 332)"),
    ("npz object array", "cls", arrays(lambda m: {**m, "params": np.array([{"x": 1}], dtype=object)}),
     Z, "refused: params is an object array, which only pickle can load (nnfit never unpickles)"),
    ("npz params missing", "cls", arrays(lambda m: {"state": m["state"]}), Z,
     "no params array; it was not written by 'nnfit train'"),
    ("npz state missing", "cls", arrays(lambda m: {"params": m["params"]}), Z,
     "no state array; it was not written by 'nnfit train'"),
    ("npz extra member", "cls", arrays(lambda m: {**m, "extra": np.zeros(2)}), Z,
     "unexpected member 'extra.npy'; a model file holds params and state only"),
    ("npz float64", "cls", arrays(lambda m: {**m, "params": m["params"].astype(np.float64)}), Z,
     "params holds <f8 numbers; the architecture in model.json is float32"),
    ("npz big-endian", "cls", arrays(lambda m: {**m, "params": m["params"].astype(">f4")}), Z,
     "params holds >f4 numbers; the architecture in model.json is float32"),
    ("npz dtype float64 in json only", "cls", setting("float64", "architecture", "dtype"), Z,
     "params holds <f4 numbers; the architecture in model.json is float64"),
    ("npz wrong shape", "cls", arrays(lambda m: {**m, "params": m["params"][:-1]}), Z,
     "params has shape [82]; the architecture in model.json needs [83]"),
    ("npz 2-D params", "cls", arrays(lambda m: {**m, "params": m["params"][None]}), Z,
     "params has shape [1, 83]; the architecture in model.json needs [83]"),
    ("npz empty params", "cls", npy_member("params", lambda a: np.zeros(0, np.float32), (1, 0)), Z,
     "params has shape [0]; the architecture in model.json needs [83]"),
    ("npz header promises a huge array", "cls", huge_header, Z,
     "params has shape [1000000000000]; the architecture in model.json needs [83]"),
    ("npz .npy format 3.0", "cls", npy_member("params", lambda a: a, (3, 0)), Z,
     "params is in .npy format 3.0, which nnfit does not write"),
    ("npz NaN parameter", "cls", nan_at("params"), Z,
     "params holds 1 NaN or infinite value; a trained model's are all finite"),
    ("npz infinite state", "cls", nan_at("state", 3, np.inf), Z, "state holds 1 NaN or infinite value"),
]


def _snapshot(run):
    """Every entry of the run directory: bytes of files, targets of links, kinds of the rest."""
    out = {}
    for entry in sorted(os.listdir(run)):
        path = run / entry
        st = os.lstat(path)
        if os.path.islink(path):
            out[entry] = ("link", os.readlink(path))
        elif os.path.isfile(path):
            out[entry] = ("file", path.read_bytes() if st.st_size < 2**20 else st.st_size,
                          st.st_mtime_ns)
        else:
            out[entry] = ("other", st.st_mode)
    return out


@pytest.mark.parametrize("kind,tamper,named,says", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_tampered_model_files_are_one_line_exit_2_and_change_nothing(runs, tmp_path, kind, tamper,
                                                                     named, says):
    run = tmp_path / "run"
    shutil.copytree(runs[kind], run, symlinks=True)
    tamper(run)
    before = _snapshot(run)
    out = tmp_path / "predictions.csv"
    for command in (("eval", run, runs["data"]), ("predict", run, runs["data"], "-o", out),
                    ("show", run)):
        result = cli(*command)
        lines = result.stderr.strip().splitlines()
        assert result.returncode == 2, (command[0], result.stderr)
        assert len(lines) == 1 and "Traceback" not in result.stderr \
            and "internal error" not in result.stderr, (command[0], result.stderr)
        prefix = f"{run / named}: " if named else f"{run}: "
        assert lines[0].startswith(prefix) and says in lines[0], (command[0], lines[0])
        assert len(lines[0]) < 700, (command[0], len(lines[0]))
    assert _snapshot(run) == before
    assert not out.exists()


def test_there_are_at_least_forty_distinct_tamperings():
    assert len({c[0] for c in CASES}) == len(CASES) >= 40


@pytest.mark.parametrize("kind,path", [("cls", ("class_weight",)), ("reg", ("state_layout",)),
                                       ("cls", ("preprocessing", "fill")),
                                       ("cls", ("preprocessing", "quantiles")),
                                       ("cls", ("preprocessing", "reading")),
                                       ("cls", ("preprocessing", "missing")),
                                       ("cls", ("preprocessing", "scale"))])
def test_keys_older_files_lack_are_optional(runs, tmp_path, kind, path):
    """What format 1 added over time may be absent: such files load (the state too, when the
    layers have none)."""
    run = tmp_path / "run"
    shutil.copytree(runs[kind], run)
    meta = json.loads((run / "model.json").read_text())
    target = meta
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]  # a KeyError here: the fixture's run lacks the key
    (run / "model.json").write_text(json.dumps(meta))
    result = cli("show", run)
    assert result.returncode == 0, result.stderr


def test_a_model_without_class_weight_and_state_loads_as_nnfit_wrote_it_before(runs, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(runs["reg"], run)
    with np.load(run / "model.npz") as npz:
        assert math.prod(npz["state"].shape) == 0
        params = npz["params"]
    buffer = io.BytesIO()
    np.savez(buffer, params=params)  # no state member: written before state existed
    (run / "model.npz").write_bytes(buffer.getvalue())
    meta = json.loads((run / "model.json").read_text())
    del meta["state_layout"]
    (run / "model.json").write_text(json.dumps(meta))
    assert cli("predict", run, runs["data"]).returncode == 0
