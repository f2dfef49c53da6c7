"""The machine a run uses: memory, BLAS threads, the executor that runs many jobs (locally or
on a Dask cluster), progress from worker processes, and Ctrl-C."""
