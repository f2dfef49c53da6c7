"""Everything nnfit writes and reads back: atomic writes, run directories, model files,
``metrics.json``, CSV tables and ``history.csv``; files from elsewhere read as untrusted input."""
