"""The report's pictures, as PNG files: the unrolled network, the hidden states (and the LSTM's
cell states) over time, and the gradient norm through time: tanh against ReLU, and the tanh
RNN against the LSTM and the GRU on the same sizes.

matplotlib is an optional extra (``pip install "deeprnn[plot]"``) and is imported here only.
Text inside the pictures is English unless a CJK font is installed (the captions in the
report are always in the report's language).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..fileio import atomic_write
from ..nn.rnn_function import weight_arrays
from .blocks import Picture
from .bptt import trace_backward
from .bptt_gates import trace_backward_gates
from .config import ExplainConfig, build_module
from .messages import Messages
from .problem import Problem
from .trace import ForwardTrace, trace_forward
from .trace_gates import GateTrace, trace_forward_gates

__all__ = [
    "write_pictures",
    "unrolled_network",
    "hidden_heatmap",
    "gradient_norms",
    "gradient_norm_curves",
    "kind_gradient_norm_curves",
    "VANISH_RADIUS",
    "GATE_BIAS",
    "EXPLODE_RADIUS",
    "GRAD_STEPS",
]

VANISH_RADIUS = 0.5  # spectral radius of W_hh in the left gradient panel
EXPLODE_RADIUS = 2.5  # ... and in the right one
GRAD_STEPS = 30  # at least this many time steps in the gradient picture
GATE_BIAS = 3.0  # added to the LSTM's forget-gate and the GRU's update-gate biases in the kinds panel
DPI = 90
CJK_FONTS = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "WenQuanYi Micro Hei",
    "SimHei",
    "Microsoft YaHei",
    "PingFang SC",
)


def _pyplot():
    try:
        import matplotlib
    except ImportError:
        raise ImportError('pictures need matplotlib: pip install "deeprnn[plot]"') from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _labels(msg: Messages) -> Messages:
    """The report's language inside the pictures if a font can draw it, English otherwise."""
    if msg.lang != "zh":
        return msg
    from matplotlib import font_manager

    names = {f.name for f in font_manager.fontManager.ttflist}
    font = next((f for f in CJK_FONTS if f in names), None)
    if font is None:
        return Messages("en", mod=msg.mod)
    import matplotlib

    matplotlib.rcParams["font.sans-serif"] = [font, *matplotlib.rcParams["font.sans-serif"]]
    return msg


def _columns(T: int, max_cols: int = 6) -> list[int | None]:
    """Time steps (1-based) drawn as columns; None marks the '…' column."""
    if T <= max_cols:
        return list(range(1, T + 1))
    return [1, 2, 3, None, T - 1, T]


def unrolled_network(problem: Problem, msg: Messages, path: Path) -> Path:
    """Layers (rows) by time steps (columns), both directions, arrows for the data flow, shapes."""
    plt = _pyplot()
    from matplotlib.patches import FancyBboxPatch

    lab = _labels(msg)
    mod = problem.model
    L, D, H, H_in = mod.num_layers, problem.num_dirs, mod.hidden_size, mod.input_size
    state = "h_{t}, c_{t}" if problem.kind == "lstm" else "h_{t}"
    x, _ = problem.to_kernel_layout()
    T, N = x.shape[0], x.shape[1]
    cols = _columns(T)
    C = len(cols)
    xs = [2.0 + 2.2 * c for c in range(C)]
    # One cell per (layer, t); bidirectional cells are split: forward half on top, reverse below.
    # The cell's top edge is the layer's output at t (both halves concatenated).
    hh = 0.3 if D == 2 else 0.6  # height of one half (or of the whole cell)
    y_in = 0.0
    rows_y = {layer: 1.8 + 1.7 * layer for layer in range(L)}
    y_out = rows_y[L - 1] + 1.6
    top = {layer: rows_y[layer] + 0.3 for layer in range(L)}
    bottom = {layer: rows_y[layer] - 0.3 for layer in range(L)}

    def dir_y(layer: int, d: int) -> float:
        if D == 1:
            return rows_y[layer]
        return rows_y[layer] + (hh / 2 if d == 0 else -hh / 2)

    fig, ax = plt.subplots(figsize=(2.2 + 1.35 * C, 1.6 + 1.05 * (L + 1)), dpi=DPI)
    arrow = dict(arrowstyle="-|>", color="#555", lw=1.0, shrinkA=1, shrinkB=1)
    colors = {0: "#d6e9f8", 1: "#fde2c8"}

    def box(cx, cy, text, fc, w=1.3, h=0.6):
        ax.add_patch(
            FancyBboxPatch((cx - w / 2, cy - h / 2), w, h, boxstyle="round,pad=0.03", fc=fc, ec="#333", lw=0.8)
        )
        ax.text(cx, cy, text, ha="center", va="center", fontsize=8)

    for c, t in enumerate(cols):
        cx = xs[c]
        if t is None:
            ax.text(cx, (y_in + y_out) / 2, "…", ha="center", va="center", fontsize=16)
            continue
        box(cx, y_in, f"x_{t}", "#eeeeee")
        box(cx, y_out, f"output[{t - 1}]", "#e4f4dc", w=1.6)
        for layer in range(L):
            for d in range(D):
                box(cx, dir_y(layer, d), state.format(t=t) + (" ←" if d == 1 else " →"), colors[d], h=hh)
            src = y_in + 0.3 if layer == 0 else top[layer - 1]
            ax.annotate("", (cx, bottom[layer]), (cx, src), arrowprops=arrow)
        ax.annotate("", (cx, y_out - 0.3), (cx, top[L - 1]), arrowprops=arrow)
    # recurrent arrows (between the cells, at each direction's height), initial and final states
    for layer in range(L):
        for d in range(D):
            cy = dir_y(layer, d)
            k = layer * D + d
            for c in range(C - 1):
                a, b = (xs[c] + 0.66, xs[c + 1] - 0.66)
                ax.annotate(
                    "",
                    (b, cy) if d == 0 else (a, cy),
                    (a, cy) if d == 0 else (b, cy),
                    arrowprops=dict(arrow, color="#1f5fa0" if d == 0 else "#c0601a"),
                )
            left, right = xs[0] - 1.2, xs[-1] + 1.2
            ax.text(left if d == 0 else right, cy, f"h0[{k}]", ha="center", va="center", fontsize=7)
            ax.text(
                right if d == 0 else left,
                cy,
                f"h_n[{k}]",
                ha="center",
                va="center",
                fontsize=7,
                fontweight="bold",
            )
            name = f"{lab('pic_layer')} {layer}" + ((" →" if d == 0 else " ←") if D == 2 else "")
            ax.text(xs[0] - 1.75, cy, name, ha="right", va="center", fontsize=8)
    # shape labels
    gray = dict(fontsize=7, color="#444", ha="left", va="center")
    ax.text(xs[-1] + 0.75, y_in, f"x_t: ({N}, {H_in}) = (N, H_in)", **gray)
    ax.text(xs[-1] + 0.9, y_out, f"({N}, {D * H}) = (N, D·H_out)", **gray)
    ax.text(xs[0] + 0.08, (y_in + bottom[0]) / 2, f"({N}, {H_in})", **gray)
    ax.text(xs[0] + 0.08, (top[L - 1] + y_out - 0.3) / 2, f"({N}, {D * H})", **gray)
    if L > 1:
        ax.text(xs[0] + 0.08, (top[0] + bottom[1]) / 2, f"({N}, {D * H})", **gray)
    if C > 1:
        ax.text(
            (xs[0] + xs[1]) / 2,
            dir_y(0, 0) + 0.22,
            f"({N}, {H})",
            ha="center",
            va="bottom",
            fontsize=7,
            color="#1f5fa0",
        )
    ax.set_xlim(xs[0] - 3.2, xs[-1] + 3.0)
    ax.set_ylim(y_in - 0.7, y_out + 0.7)
    ax.axis("off")
    ax.set_title(
        f"{lab('pic_unrolled_title')} ({problem.module_name}): L={T}, N={N}, H_in={H_in}, H_out={H}, layers={L}, D={D}",
        fontsize=9,
    )
    fig.tight_layout()
    atomic_write(path, lambda fh: fig.savefig(fh, format="png"))
    plt.close(fig)
    return path


def hidden_heatmap(trace: ForwardTrace, msg: Messages, path: Path, cells: bool = False) -> Path:
    """h_t of sample 0 as (hidden unit × time step) images, one per layer and direction;
    cells=True: the LSTM's c_t instead (trace.cell_outputs, each (T, N, D*H))."""
    plt = _pyplot()
    lab = _labels(msg)
    outputs = trace.cell_outputs if cells else trace.layer_outputs
    L, D = trace.num_layers, trace.num_dirs
    T = trace.output.shape[0]
    H = trace.output.shape[2] // D
    fig, axes = plt.subplots(
        L * D,
        1,
        figsize=(min(2.5 + 0.45 * T, 11), 0.9 + (0.35 + 0.22 * H) * L * D),
        dpi=DPI,
        squeeze=False,
    )
    tanh = trace.nonlinearity == "tanh"
    if cells:  # c_t is not bounded by 1: a symmetric scale around 0
        vmax = max(float(np.max([np.abs(y).max() for y in outputs])), 1e-12)
    else:
        vmax = 1.0 if tanh else max(float(np.max([y.max() for y in outputs])), 1e-12)
    for layer in range(L):
        for d in range(D):
            ax = axes[layer * D + d, 0]
            img = outputs[layer][:, 0, d * H : (d + 1) * H].T  # (H, T)
            im = ax.imshow(
                img,
                aspect="auto",
                cmap="RdBu_r" if tanh else "viridis",
                vmin=-vmax if tanh else 0,
                vmax=vmax,
                extent=(0.5, T + 0.5, H - 0.5, -0.5),
                interpolation="nearest",
            )
            ax.set_ylabel(f"{lab('pic_layer')} {layer}" + (" rev" if d else ""), fontsize=8)
            ax.tick_params(labelsize=7)
            fig.colorbar(im, ax=ax, fraction=0.03, pad=0.02)
    axes[-1, 0].set_xlabel(lab("pic_time"), fontsize=8)
    what = trace.kind.upper() if isinstance(trace, GateTrace) else trace.nonlinearity
    title = lab("pic_cells_title" if cells else "pic_heatmap_title")
    axes[0, 0].set_title(f"{title} ({what}; {lab('pic_unit')} × t)", fontsize=9)
    fig.tight_layout()
    atomic_write(path, lambda fh: fig.savefig(fh, format="png"))
    plt.close(fig)
    return path


def _rescaled(weights, radius: float):
    """The same weights with every W_hh scaled to the given spectral radius."""
    out = []
    for w_ih, w_hh, b_ih, b_hh in weights:
        rho = float(np.max(np.abs(np.linalg.eigvals(w_hh))))
        out.append((w_ih, w_hh * (radius / rho) if rho > 0 else w_hh, b_ih, b_hh))
    return out


def _weights_of(model) -> list[tuple]:
    """A module's (w_ih, w_hh, b_ih, b_hh) arrays per layer-direction."""
    return weight_arrays(model._weight_groups())


def _rnn_weights(problem: Problem, seed: int) -> list[tuple]:
    """The problem's own weights for an RNN; for an LSTM or GRU, a tanh nn.RNN's of the same sizes."""
    if problem.kind == "rnn":
        return problem.weights()
    mod = problem.model
    cfg = ExplainConfig(mod.input_size, mod.hidden_size, mod.num_layers, bias=mod.bias, bidirectional=mod.bidirectional)
    return _weights_of(build_module(cfg, seed))


def _grad_input(problem: Problem, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The pictures' input (T, N, H_in), T >= GRAD_STEPS, standard normal from seed + 2, and zero h0."""
    x, h0 = problem.to_kernel_layout()
    T = max(x.shape[0], GRAD_STEPS)
    rng = np.random.default_rng(seed + 2)
    return rng.standard_normal((T, x.shape[1], x.shape[2])), h0


def gradient_norm_curves(problem: Problem, seed: int = 0) -> dict[tuple[float, str], np.ndarray]:
    """||dL/dh_t|| (t = 1..T) of layer 0's forward direction, loss = last step's output, for each
    (W_hh spectral radius, nonlinearity), on the problem's RNN weights (for an LSTM or GRU problem,
    an RNN of the same sizes drawn from `seed`)."""
    mod = problem.model
    x, h0 = _grad_input(problem, seed)
    curves = {}
    for radius in (VANISH_RADIUS, EXPLODE_RADIUS):
        w = _rescaled(_rnn_weights(problem, seed), radius)
        for act in ("tanh", "relu"):
            fwd = trace_forward(x, h0, w, act, mod.num_layers, problem.num_dirs)
            curves[radius, act] = trace_backward(fwd, w, "last").norms(0, 0)
    return curves


def kind_gradient_norm_curves(problem: Problem, seed: int = 0) -> dict[str, np.ndarray]:
    """||dL/dh_t|| (t = 1..T), loss = the last step's output, for 'rnn' (tanh), 'lstm' and 'gru':
    one layer, one direction, the problem's H_in, H_out and N, each drawn as PyTorch draws it
    from `seed`, the LSTM's forget-gate and the GRU's update-gate biases raised by GATE_BIAS,
    all on the same input (T >= GRAD_STEPS) from h0 = 0 (and c0 = 0)."""
    mod = problem.model
    x, _ = _grad_input(problem, seed)
    T, N, _ = x.shape
    H = mod.hidden_size
    h0 = np.zeros((1, N, H))
    curves = {}
    for kind in ("rnn", "lstm", "gru"):
        w = _weights_of(build_module(ExplainConfig(mod.input_size, H, 1, mode=kind), seed))
        if kind == "rnn":
            fwd = trace_forward(x, h0, w, "tanh", 1, 1)
            curves[kind] = trace_backward(fwd, w, "last").norms(0, 0)
            continue
        w_ih, w_hh, b_ih, b_hh = w[0]
        b_ih = b_ih.copy()
        b_ih[H : 2 * H] += GATE_BIAS  # block 1: the LSTM's f, the GRU's z (the gates that keep)
        w = [(w_ih, w_hh, b_ih, b_hh)]
        fwd = trace_forward_gates(kind, x, h0, np.zeros_like(h0), w, 1, 1)
        curves[kind] = trace_backward_gates(fwd, w, "last").norms(0, 0)
    return curves


def gradient_norms(problem: Problem, msg: Messages, path: Path, seed: int = 0) -> Path:
    """Three panels, log scale: tanh and ReLU with W_hh rescaled to vanish and to explode, and the
    tanh RNN against the LSTM and the GRU on the same sizes."""
    plt = _pyplot()
    lab = _labels(msg)
    curves = gradient_norm_curves(problem, seed)
    kinds = kind_gradient_norm_curves(problem, seed)
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.4), dpi=DPI)
    for ax, radius in zip(axes, (VANISH_RADIUS, EXPLODE_RADIUS)):
        for act, style in (("tanh", "-o"), ("relu", "-s")):
            g = curves[radius, act]
            t = np.arange(1, g.size + 1)
            ax.semilogy(t, np.where(g > 0, g, np.nan), style, ms=3, label=act)
        ax.set_title(f"RNN, W_hh spectral radius {radius}", fontsize=9)
    ax = axes[2]
    for kind, style in (("rnn", "-o"), ("lstm", "-s"), ("gru", "-^")):
        g = kinds[kind]
        t = np.arange(1, g.size + 1)
        ax.semilogy(t, np.where(g > 0, g, np.nan), style, ms=3, label="RNN (tanh)" if kind == "rnn" else kind.upper())
    ax.set_title(f"{lab('pic_kinds_title')} (forget/update bias +{GATE_BIAS:g})", fontsize=9)
    for ax in axes:
        ax.set_xlabel(lab("pic_time"), fontsize=8)
        ax.set_ylabel("‖dL/dh_t‖ (layer 0)", fontsize=8)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
        ax.tick_params(labelsize=7)
    fig.suptitle(lab("pic_grads_title") + " — loss = output at the last step", fontsize=9)
    fig.tight_layout()
    atomic_write(path, lambda fh: fig.savefig(fh, format="png"))
    plt.close(fig)
    return path


def write_pictures(
    problem: Problem, trace: ForwardTrace, msg: Messages, directory: Path, seed: int = 0
) -> list[Picture]:
    """Write the PNGs into `directory` (created if needed): unrolled.png, hidden_states.png,
    (LSTM) cell_states.png, gradient_norms.png; return them with captions."""
    _pyplot()  # fail early, with the install hint, before creating anything
    directory.mkdir(parents=True, exist_ok=True)
    T = max(trace.output.shape[0], GRAD_STEPS)
    pics = [
        Picture(unrolled_network(problem, msg, directory / "unrolled.png"), msg("cap_unrolled")),
        Picture(hidden_heatmap(trace, msg, directory / "hidden_states.png"), msg("cap_heatmap")),
    ]
    if problem.kind == "lstm":
        pics.append(Picture(hidden_heatmap(trace, msg, directory / "cell_states.png", cells=True), msg("cap_cells")))
    mod = problem.model
    keep = f"{1.0 / (1.0 + np.exp(-GATE_BIAS)):.2f}"
    caption = (
        msg("cap_grads", T=T, small=VANISH_RADIUS, big=EXPLODE_RADIUS)
        + " "
        + msg(
            "cap_kinds",
            i=mod.input_size,
            h=mod.hidden_size,
            n=problem.sizes[1],
            T=T,
            seed=seed,
            bias=GATE_BIAS,
            keep=keep,
        )
    )
    pics.append(Picture(gradient_norms(problem, msg, directory / "gradient_norms.png", seed), caption))
    return pics
