# ruff: noqa: E501  (a table of prose; keeping each message on one line keeps it greppable)
"""English text of the report, by message key (text_zh.py has the same keys)."""

MESSAGES: dict[str, str] = {
    "title": "Explaining an Elman RNN step by step",
    "source_example": "Worked example '{name}' from the seed {source}.",
    "source_config": "A network built from a configuration; weights drawn as {mod} draws them, "
    "U(-1/sqrt(H_out), 1/sqrt(H_out)), from seed {seed}; the input is standard normal.",
    "source_config_scaled": "A network built from a configuration; every weight and bias drawn from "
    "U(-{scale}, {scale}) (seed {seed}); the input is standard normal.",
    "source_model": "A given {mod} with its own weights (copied to float64); the input is standard normal "
    "(seed {seed}) unless one was given.",
    "dropout_note": "The model has dropout={p}; dropout acts only in training mode, and evaluation mode is explained.",
    "h0_zero": "h0 is all zeros ({mod}'s default when no h0 is given).",
    "h0_given": "h0 is given (its values appear in the first step of each layer and direction).",
    "note_seed001": "The seed prints illustrative numbers (输出示例), not a real run: in them output[-1] equals "
    "hn[0]. In a real 2-layer network output[-1] equals hn[1], the LAST layer's final state "
    "(verified in section 6). The seed's weights are random, so ours (drawn from the seed "
    "number) give other values; the input_data and h0 = zeros are the seed's.",
    "note_seed001_kind": "Seed 001's two-layer example (its input_data, h0 = zeros) with {mod} in place of nn.RNN: "
    "input, h0, output and h_n keep the seed's shapes, and output[-1] equals h_n[1], the last layer's final state "
    "(section 6); only the weights grow, to one block of rows per gate. The weights are drawn from the seed number.",
    "note_chapter1": "The seed's chapter 1 network: w_ih = 0.1, b_ih = 0.2, w_hh = 0.3, and b_hh merged into "
    "b_ih (so b_hh = 0 here); x_t = 0.04 at every step, h_0 = torch.randn(1) (drawn here from "
    "the seed number). The seed's output layer o_t = h_t·w_ho + b_ho is not part of nn.RNN and "
    "is left out. The input is unbatched: shape (L, H_in) = (3, 1).",
    "note_chapter4": "The seed's chapter 4 code: nn.RNN(3, 2, 1), input = torch.randn(4, 5, 3) and "
    "h_t_1 = torch.randn(1, 5, 2), both drawn here from the seed number.",
    # 1. configuration
    "sec_config": "1. The configuration",
    "cfg_header": "argument|value|meaning",
    "cfg_input_size": "H_in: the features of each time step's input",
    "cfg_hidden_size": "H_out: the features of the hidden state h_t",
    "cfg_num_layers": "stacked layers; layer l > 0 reads layer l-1's output",
    "cfg_nonlinearity": "act in h_t = act(...)",
    "cfg_bias": "whether the biases b_ih and b_hh exist",
    "cfg_batch_first": "input and output as (N, L, F) instead of (L, N, F)",
    "cfg_bidirectional": "D = 2: a reverse direction also reads the sequence backwards",
    "cfg_seq_len": "L: the number of time steps",
    "cfg_batch_size": "N: sequences processed together",
    "unbatched": "unbatched (one sequence, no batch axis)",
    # 2. equation
    "sec_equation": "2. The equation",
    "eq_intro": "Every layer, direction and time step t computes (nn.RNN's recurrence):",
    "eq_fwd_dir": "forward direction, t = 1 … L",
    "eq_rev_dir": "reverse direction, t = L … 1",
    "eq_batch": "In a batch the samples are rows: H_t = act(X_t W_ih^T + b_ih + H_(t-1) W_hh^T + b_hh), "
    "(N, H_in)·(H_in, H_out) → (N, H_out); the biases (H_out,) are added to every row "
    "(broadcasting, the seed's 广播机制).",
    "eq_layout": "PyTorch stores W_ih as (H_out, H_in), so it multiplies a column x_t from the left (W_ih x_t), "
    "or a row from the right, transposed (x_t W_ih^T). The seed's chapter 2 writes x_t·w_ih with "
    "w_ih of shape d × p: that w_ih is PyTorch's W_ih transposed.",
    "eq_layers": "Layer 0 reads the input x_t; layer l > 0 reads layer l-1's h_t at the same time step "
    "(both directions concatenated when bidirectional).",
    "eq_bias_merge": "b_ih and b_hh are always added together, so one of them is redundant (the seed's "
    "chapter 1 merges them); PyTorch keeps both.",
    # 3. parameters
    "sec_params": "3. The parameters: names, shapes and why",
    "param_header": "parameter|shape|why this shape",
    "why_w_ih0": "maps the H_in = {i} input features to H_out = {h} hidden features: {h} rows, {i} columns",
    "why_w_ih_up": "layer {l} reads layer {lp}'s output, which has D·H_out = {dh} features{both}: "
    "{h} rows, {dh} columns",
    "why_both": " (both directions concatenated)",
    "why_w_hh": "maps h_prev (H_out = {h}) to a vector added to h_t (H_out = {h}): square",
    "why_b": "one number per hidden feature, added to every sample's row",
    "why_reverse": "; the reverse direction has its own set",
    "param_total": "{n} numbers in total. Their values (long rows and columns shortened with …):",
    # 4. shapes
    "sec_shapes": "4. The shapes of input, h0, output and h_n",
    "shape_header": "tensor|shape here|rule",
    "rule_input_tm": "(L, N, H_in): time first (batch_first=False)",
    "rule_input_bf": "(N, L, H_in): batch first (batch_first=True)",
    "rule_input_ub": "(L, H_in): unbatched, one sequence",
    "rule_h0": "(D·num_layers, N, H_out): one state per layer and direction, forward before reverse; "
    "batch_first does not change it",
    "rule_h0_ub": "(D·num_layers, H_out): unbatched",
    "rule_out_tm": "(L, N, D·H_out): the last layer's h_t for every t, directions concatenated",
    "rule_out_bf": "(N, L, D·H_out): batch first, like the input",
    "rule_out_ub": "(L, D·H_out): unbatched",
    "rule_hn": "(D·num_layers, N, H_out): every layer's and direction's final state, like h0",
    "rule_hn_ub": "(D·num_layers, H_out): unbatched",
    "shape_letters": "Here L = {L}, N = {N}, H_in = {I}, H_out = {H}, D = {D}, num_layers = {nl}.",
    "shape_kernel": "Every step below works time-major: the input is seen as (L, N, H_in) = {shape}{how}.",
    "how_bf": ", the batch_first input transposed",
    "how_ub": ", the unbatched input given a batch axis of N = 1",
    "seed_says": "The seed states {claims}; the module here returns {ours}",
    "same": "same",
    "different": "DIFFERENT",
    # 5. forward
    "sec_forward": "5. The forward pass, step by step",
    "fwd_order": "In the order the data flows: layer by layer from the bottom; within a layer the forward "
    "direction walks t = 1 → L and the reverse direction t = L → 1. (For a one-directional "
    "network, going time step by time step through all the layers, as seed 001 describes, "
    "gives the same numbers.)",
    "fwd_samples": "Rows are samples; {shown} of the {n} are shown (each is computed the same way).",
    "layer_dir": "Layer {l}, {dir} direction",
    "dir_fwd": "forward",
    "dir_rev": "reverse",
    "input_of_layer0": "x_t is the input at time step t",
    "input_of_upper": "x_t is layer {lp}'s output at time step t ({dh} features)",
    "step": "time step t = {t}  (output index {i})",
    "steps_omitted": "… {n} time steps left out (max_steps = {m}) …",
    # 6. relations
    "sec_relations": "6. How output and h_n relate",
    "rel_intro": "output holds only the last layer's states, at every time step; h_n holds the final state "
    "of every layer and direction. The forward direction ends at the last time step, the "
    "reverse direction at the first.",
    "rel_header": "h_n index|layer|direction|equals|max abs difference",
    "rel_lower": "layer0_output, layer1_output, … are lower layers' outputs inside the network (the next layer's input); "
    "{mod} does not return them.",
    # 7. check
    "sec_check": "7. Check against the module",
    "check_intro": "The same weights, input and h0 through deeprnn's {mod} (its fused kernels), float64:",
    "check_line": "largest |trace − {mod}| in {what}",
    "ok": "OK",
    "fail": "MISMATCH",
    # 8. backward
    "sec_backward": "8. Backpropagation through time",
    "loss_sum": "Loss L = sum(output): dL/d(output) = 1 for every entry. h_n is not in the loss.",
    "loss_last": "Loss L = sum of the output at the last time step: dL/d(output) = 1 there and 0 elsewhere. "
    "h_n is not in the loss.",
    "bwd_eq_above": "from above: dL/d(output) for the last layer, dL/dx_t of the layer above otherwise",
    "bwd_eq_dact": "act' from the output: tanh' = 1 − h_t², relu' = 1 where h_t > 0 else 0",
    "bwd_eq_acc": "accumulated over the time steps (the weights are shared by every step)",
    "bwd_eq_next": "to the step before, and to the layer below",
    "bwd_order": "Layers from the top down; the forward direction walks back t = L → 1, the reverse "
    "direction t = 1 → L. The table gives norms over the whole batch; the lines below it the "
    "numbers.",
    "bwd_header": "t|‖from above‖|‖from next‖|‖dL/dh_t‖|mean act'|‖dW_ih‖ so far|‖dW_hh‖ so far",
    "bwd_check_intro": "The accumulated gradients against {mod}'s autograd (loss.backward()):",
    "check_grad": "largest |trace − {mod}| in {what}",
    # 9. pictures
    "sec_pictures": "9. Pictures",
    "cap_unrolled": "The unrolled network: layers (rows) by time steps (columns), arrows for the data flow, "
    "labelled with shapes.",
    "cap_heatmap": "The hidden states h_t over time, per layer and direction (sample 0).",
    "cap_grads": "Left and middle: ‖dL/dh_t‖ across time steps of an Elman RNN, tanh against ReLU on this "
    "configuration (an RNN of its sizes for an LSTM or GRU; log scale), loss = the output at the last time step, "
    "layer 0 forward direction, L = {T} steps. W_hh is rescaled to spectral radius {small} (left: gradients "
    "vanish) and {big} (middle: ReLU gradients explode); W_ih, biases and input as drawn. Right:",
    "pic_unrolled_title": "Unrolled network",
    "pic_heatmap_title": "Hidden states over time",
    "pic_grads_title": "Gradient norm through time",
    "pic_layer": "layer",
    "pic_time": "time step t",
    "pic_unit": "hidden unit",
    # LSTM and GRU
    "title_lstm": "Explaining an LSTM step by step",
    "title_gru": "Explaining a GRU step by step",
    "c0_zero": "c0, the initial cell state, is all zeros (nn.LSTM's default; h0 and c0 are given together or not at all).",
    "c0_given": "c0, the initial cell state, is given with h0 (its values appear in the first step of each layer and direction).",
    "cfg_gates_lstm": "the LSTM's four gates, in PyTorch's order: input, forget, candidate (g), output",
    "cfg_gates_gru": "the GRU's three parts, in PyTorch's order: reset, update, candidate (n)",
    "gate_i": "input gate",
    "gate_f": "forget gate",
    "gate_g": "candidate",
    "gate_o": "output gate",
    "gate_r": "reset gate",
    "gate_z": "update gate",
    "gate_n": "candidate",
    "cell_state": "cell state",
    "hidden_state": "hidden state",
    "eq_intro_lstm": "Every layer, direction and time step t computes (nn.LSTM's equations, PyTorch's gate order i, f, g, o; ⊙ multiplies entry by entry):",
    "eq_intro_gru": "Every layer, direction and time step t computes (nn.GRU's equations, PyTorch's order r, z, n; ⊙ multiplies entry by entry):",
    "eq_gates_common": "sigmoid(a) = 1 / (1 + e^(−a)) lies in (0, 1): a gate multiplies what passes it by a fraction. In a batch the samples are rows, as for the Elman RNN: each gate is (N, H_out), X_t W^T + H_(t-1) W^T with the biases (H_out,) added to every row.",
    "eq_gates_reverse": "The reverse direction computes the same with h_(t+1) (and c_(t+1)) in place of h_(t-1) (and c_(t-1)), walking t = L … 1.",
    "eq_split_lstm": "PyTorch stores the four gates' weights stacked: weight_ih is (4·H_out, H_in) = [W_ii; W_if; W_ig; W_io] and weight_hh is (4·H_out, H_out) = [W_hi; W_hf; W_hg; W_ho]; one product gives all four gates, whose blocks of H_out columns are i, f, g, o (section 4 shows the rows of each).",
    "eq_split_gru": "PyTorch stores the three parts' weights stacked: weight_ih is (3·H_out, H_in) = [W_ir; W_iz; W_in] and weight_hh is (3·H_out, H_out) = [W_hr; W_hz; W_hn] (section 4 shows the rows of each). The reset gate r scales W_hn h + b_hn, the recurrent part of the candidate, before it is added.",
    "eq_bias_lstm": "b_ih and b_hh are added together in every gate, so one of each pair is redundant; PyTorch keeps both.",
    "eq_bias_gru": "For r and z, b_ih and b_hh are added together; for the candidate they are not: b_in is outside r ⊙ (…) and b_hn inside, so both matter.",
    "why_g_x0": "the H_in = {i} input features",
    "why_g_up": "layer {lp}'s output, D·H_out = {dh} features",
    "why_g_h": "h_prev, H_out = {h} features",
    "why_g_w": "{g} gates ({blocks}) stacked, one block of H_out = {h} rows each: {gh} rows; each reads {src}: {cols} columns",
    "why_g_b": "one number per gate and hidden feature: {g} blocks ({blocks}) of {h}, {gh} in all, added to every sample's row",
    "rule_c0": "(D·num_layers, N, hidden_size): the initial cell state, one per layer and direction, like h0",
    "rule_cn": "(D·num_layers, N, hidden_size): every layer's and direction's final cell state, like h_n",
    "split_intro": "How the stacked weights split into gates: each gate owns {h} consecutive rows (H_out = {h}) of the {gh} rows of weight_ih and weight_hh (weight_ih_l0 is ({gh}, {i})), and the same entries of the biases, in this order:",
    "split_header": "gate|rows of weight_ih_l0|rows of weight_hh_l0|biases",
    "split_layers": "Every layer and direction splits the same way (weight_ih_l1, weight_hh_l0_reverse, …); the gate blocks of the stacked product X_t W_ih^T are its columns in the same order.",
    "rel_cn": "c_n (the final cell states) is not part of output: output holds h_t only. c_n is checked against the module in section 7.",
    "fwd_gates_lstm": "Each step computes the four gates from x_t and h_(t-1), each with its own block of the stacked weights, then the cell state c_t and h_t.",
    "fwd_gates_gru": "Each step computes the reset and update gates from x_t and h_(t-1), then the candidate n_t (with the reset gate inside), then h_t between n_t and h_(t-1).",
    "bwd_eq_dc": "the cell state's gradient: what the next step passes back along c, plus the path through h_t = o_t ⊙ tanh(c_t)",
    "bwd_eq_gates": "the gates' gradients, then through sigmoid' = s(1−s) and tanh' = 1 − g² to their pre-activations",
    "bwd_eq_next_lstm": "to the step before (c's gradient is only multiplied by f: with f near 1 it survives many steps), and to the layer below",
    "bwd_eq_gru_r": "the reset gate's gradient: da_n times W_hn h_prev + b_hn, the term that r scales",
    "bwd_eq_next_gru": "to the step before (dL/dh_t ⊙ z_t passes straight back: with z near 1 the gradient survives), and to the layer below",
    "bwd_header_lstm": "t|‖from above‖|‖from next‖|‖dL/dh_t‖|‖dL/dc_t‖|‖da_i‖|‖da_f‖|‖da_g‖|‖da_o‖|‖dW_ih‖ so far|‖dW_hh‖ so far",
    "bwd_header_gru": "t|‖from above‖|‖from next‖|‖dL/dh_t‖|‖da_r‖|‖da_z‖|‖da_n‖|‖dL/dh_t ⊙ z_t‖|‖dW_ih‖ so far|‖dW_hh‖ so far",
    "bwd_carry_lstm": "After a direction's last step the carries left are dL/dh0 and dL/dc0 (checked when h0 and c0 are given).",
    "cap_cells": "The cell states c_t over time, per layer and direction (sample 0); unlike h_t they are not bounded by 1.",
    "pic_cells_title": "Cell states over time",
    "cap_kinds": "‖dL/dh_t‖ for a loss on the last step, tanh RNN against LSTM and GRU of the same sizes (H_in = {i}, H_out = {h}, one layer, N = {n}, L = {T} steps, log scale), each drawn as PyTorch draws it from seed {seed}, with the LSTM's forget-gate bias and the GRU's update-gate bias raised by {bias} (f and z near sigmoid({bias}) = {keep}), as an LSTM learns to keep what it needs: the gated paths multiply the gradient by f (or z) at each step, not by W_hh and tanh', so it survives.",
    "pic_kinds_title": "RNN, LSTM and GRU",
}
