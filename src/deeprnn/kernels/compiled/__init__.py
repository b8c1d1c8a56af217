"""deeprnn.kernels.compiled: the sequential part of the recurrent kernels, compiled with numba.

Optional (``pip install deeprnn[fast]``).  One file per kind holds the time loops of one
layer-direction, forward and BPTT, with the same contracts as the NumPy loops they replace:

    rnn.py   CompiledElman (the Elman RNN, tanh or relu)
    lstm.py  CompiledLSTM
    gru.py   CompiledGRU

each a subclass of its kind (kernels/rnn.py, lstm.py, gru.py) made by ``compiled_twin``.

`sample.py` draws a language model's text at batch 1 (every kind: each layer's step, the head, the
softmax and the draw in one call), with the per-step cells of lstm.py and gru.py.
`_math.py` holds what they share (tanh, sigmoid, the small per-step product), `_rows.py` how strided
rows reach them as contiguous ones, and `_jit.py` how they are compiled and cached.  Importing this
package does not import numba: the modules above do, and `kernels/backend.py` decides when to import
and call them.
"""
