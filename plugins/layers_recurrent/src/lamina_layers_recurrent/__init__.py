"""lamina-layers-recurrent: RNN, LSTM, GRU, their cells, and ``lamina.nn.utils.rnn`` (packed sequences).

Nothing is imported here: the plugin index imports only the module that provides a requested name.
Each recurrent layer and direction runs as ONE ``autograd.Function`` over the whole sequence
(``_rnn_function``, ``_lstm_function``, ``_gru_function``): the input projection of every step in
one GEMM, one GEMM per step for the recurrence, and backward-through-time in the same Function.
Scratch arrays and saved activations come from the backend's ``workspace`` (pooled on the CPU, so
steps do not page-fault fresh memory in; reused only once nothing references them).
"""

__lamina_plugin_api__ = "1.0"
