"""The attention block against PyTorch as a test-only reference (skipped when torch is absent).

nnfit's block is ``r = x + out(MHA(ln1(x)))``, ``y = r + ffn2(relu(ffn1(ln2(r))))``;
the same computation is rebuilt from ``torch.nn.LayerNorm``,
``torch.nn.MultiheadAttention(batch_first=True)`` and two ``torch.nn.Linear``
with nnfit's weights copied in, and the forward output, ``dL/dx`` and every
parameter gradient must agree to 1e-10 in float64.

Weight mapping (nnfit ``Dense`` computes ``x·W + b`` with ``W (fan_in, fan_out)``;
``torch.nn.Linear`` computes ``x·Wᵀ + b`` with ``weight (out, in)``):

* ``ln1/ln2.gamma, beta`` → ``LayerNorm.weight, bias`` (both eps 1e-5).
* ``qkv.W (dim, 3·dim)``: column ``c = s·dim + h·d_k + i`` is part ``s`` (0 = Q,
  1 = K, 2 = V), head ``h``, feature ``i`` (nnfit reshapes the projection to
  ``(…, 3, heads, d_k)``). ``MultiheadAttention.in_proj_weight (3·dim, dim)``
  stacks the q, k, v rows and splits each ``dim`` block into heads as
  ``(heads, d_k)``, so its row ``c`` is the same (part, head, feature):
  ``in_proj_weight = qkv.Wᵀ``, ``in_proj_bias = qkv.b``. ``_qkv_rows`` writes
  the mapping out index by index (it is the identity); the forward match checks it.
* ``out.W`` → ``out_proj.weight = out.Wᵀ``; nnfit merges heads as
  ``(tokens, heads, d_k)`` → ``dim``, as torch's concat of heads does.
* ``ffn1.W``, ``ffn2.W`` → ``Linear.weight = Wᵀ``.
"""

import numpy as np
import pytest

from nnfit.nn.build import build_network

torch = pytest.importorskip("torch")

TOL = 1e-10


def _qkv_rows(dim, heads):
    """For each torch ``in_proj`` row, the nnfit ``qkv`` column with the same (part, head, feature)."""
    dk = dim // heads
    rows = np.empty(3 * dim, dtype=int)
    for s in range(3):  # torch: q rows, then k rows, then v rows
        for h in range(heads):  # within a part, torch's head h takes features h·d_k … (h+1)·d_k
            for i in range(dk):
                torch_row = s * dim + h * dk + i
                # nnfit: qkv.reshape(n, t, 3, heads, d_k)[..., s, h, i]
                rows[torch_row] = np.ravel_multi_index((s, h, i), (3, heads, dk))
    return rows


class TorchBlock(torch.nn.Module):
    def __init__(self, dim, heads, hidden):
        super().__init__()
        self.ln1 = torch.nn.LayerNorm(dim, eps=1e-5, dtype=torch.float64)
        self.mha = torch.nn.MultiheadAttention(dim, heads, dropout=0.0, bias=True, batch_first=True,
                                               dtype=torch.float64)
        self.ln2 = torch.nn.LayerNorm(dim, eps=1e-5, dtype=torch.float64)
        self.ffn1 = torch.nn.Linear(dim, hidden, dtype=torch.float64)
        self.ffn2 = torch.nn.Linear(hidden, dim, dtype=torch.float64)

    def forward(self, x):
        a = self.ln1(x)
        r = x + self.mha(a, a, a, need_weights=False)[0]
        return r + self.ffn2(torch.relu(self.ffn1(self.ln2(r))))


def _pairs(block, rows):
    """(nnfit parameter name, torch tensor, nnfit array → torch layout)."""
    t = lambda w: w.T  # noqa: E731
    return [
        ("ln1.gamma", block.ln1.weight, None), ("ln1.beta", block.ln1.bias, None),
        ("qkv.W", block.mha.in_proj_weight, lambda w: w[:, rows].T),
        ("qkv.b", block.mha.in_proj_bias, lambda b: b[rows]),
        ("out.W", block.mha.out_proj.weight, t), ("out.b", block.mha.out_proj.bias, None),
        ("ln2.gamma", block.ln2.weight, None), ("ln2.beta", block.ln2.bias, None),
        ("ffn1.W", block.ffn1.weight, t), ("ffn1.b", block.ffn1.bias, None),
        ("ffn2.W", block.ffn2.weight, t), ("ffn2.b", block.ffn2.bias, None),
    ]


@pytest.mark.parametrize("n,n_tokens,dim,heads,ffn", [(3, 5, 8, 2, 2), (2, 4, 6, 3, 1.5),
                                                      (1, 3, 4, 1, 2)])
def test_attention_block_matches_torch(n, n_tokens, dim, heads, ffn):
    torch.manual_seed(0)
    net = build_network([{"type": "attention", "dim": dim, "heads": heads, "ffn": ffn,
                          "dropout": 0.0}], input_shape=(n_tokens, dim), dtype="float64", seed=n)
    rng = np.random.default_rng(n + 10)
    net.params += 0.3 * rng.standard_normal(net.params.shape)  # γ, β and biases away from 1 and 0
    layer = net.layers[0]
    rows = _qkv_rows(dim, heads)
    assert np.array_equal(rows, np.arange(3 * dim))  # the layouts coincide: in_proj = qkv.Wᵀ

    block = TorchBlock(dim, heads, layer.subs["ffn1"].units)
    pairs = _pairs(block, rows)
    assert {name for name, _, _ in pairs} == set(layer.params)
    with torch.no_grad():
        for name, tensor, to_torch in pairs:
            value = layer.params[name] if to_torch is None else to_torch(layer.params[name])
            assert tensor.shape == value.shape, name
            tensor.copy_(torch.from_numpy(np.ascontiguousarray(value)))

    x = rng.standard_normal((n, n_tokens, dim))
    dy = rng.standard_normal((n, n_tokens, dim))

    y = net.forward(x, training=True).copy()
    dx = net.backward(dy.copy()).copy()
    grads = {name: g.copy() for name, g in layer.grads.items()}

    xt = torch.tensor(x, requires_grad=True)
    yt = block(xt)
    yt.backward(torch.from_numpy(dy))

    diffs = {"y": np.abs(y - yt.detach().numpy()).max(), "x": np.abs(dx - xt.grad.numpy()).max()}
    for name, tensor, to_torch in pairs:
        g = grads[name] if to_torch is None else to_torch(grads[name])
        diffs[name] = np.abs(g - tensor.grad.numpy()).max()
    print(f"max abs differences: {diffs}")
    bad = {k: v for k, v in diffs.items() if not v < TOL}
    assert not bad, f"nnfit and torch differ by >= {TOL}: {bad}"
