"""Progress reporting for training: a tqdm bar when tqdm is installed, plain lines otherwise."""

from __future__ import annotations

import math
import sys
from typing import Any, TextIO

__all__ = ["Progress"]


def _fmt(x: float | None, spec: str = ".4f") -> str:
    return "-" if x is None else format(x, spec)


class Progress:
    """Shows iteration, loss, val loss, perplexity and throughput; prints messages and samples.

    ``quiet=True`` prints nothing.  ``unit`` is "char" or "tok" for the throughput.
    """

    def __init__(
        self,
        total: int,
        initial: int = 0,
        quiet: bool = False,
        unit: str = "char",
        stream: TextIO | None = None,
        use_tqdm: bool | None = None,
        log_every: int = 100,
    ) -> None:
        self.quiet = quiet
        self.unit = unit
        self.stream = stream if stream is not None else sys.stderr
        self.total = total
        self.log_every = log_every
        self.val_loss: float | None = None
        self._bar: Any = None
        self._last: tuple[int, float, float] | None = None
        if quiet:
            return
        tqdm = None
        if use_tqdm is not False:
            try:
                from tqdm.auto import tqdm
            except ImportError:
                tqdm = None
        if tqdm is not None:
            self._bar = tqdm(
                total=total,
                initial=initial,
                file=self.stream,
                dynamic_ncols=True,
                unit="it",
                smoothing=0.1,
            )

    def update(self, iteration: int, loss: float, rate: float) -> None:
        """Called after each optimiser step with the training loss and tokens/second."""
        if self.quiet:
            return
        self._last = (iteration, loss, rate)
        ppl = math.exp(self.val_loss) if self.val_loss is not None and self.val_loss < 50 else None
        if self._bar is not None:
            self._bar.set_postfix_str(
                f"loss {loss:.4f} val {_fmt(self.val_loss)} ppl {_fmt(ppl, '.2f')} {rate:,.0f} {self.unit}/s",
                refresh=False,
            )
            self._bar.update(iteration - self._bar.n)
        elif iteration % self.log_every == 0 or iteration == self.total:
            self.write(
                f"iter {iteration}/{self.total}  loss {loss:.4f}  val {_fmt(self.val_loss)}  "
                f"ppl {_fmt(ppl, '.2f')}  {rate:,.0f} {self.unit}/s"
            )

    def set_val(self, iteration: int, val_loss: float) -> None:
        self.val_loss = val_loss
        if not self.quiet:
            ppl = math.exp(val_loss) if val_loss < 50 else float("inf")
            self.write(f"iter {iteration}: val loss {val_loss:.4f} (perplexity {ppl:.2f})")
            if self._bar is not None and self._last is not None:
                self.update(*self._last)  # show the new val loss in the bar at once

    def write(self, message: str) -> None:
        if self.quiet:
            return
        if self._bar is not None:
            self._bar.write(message, file=self.stream)
        else:
            print(message, file=self.stream, flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
