"""Any torch model as a UGC model: a factory (n_features, n_classes) -> nn.Module, and the layer
whose gradients form the signature (default: the final nn.Linear called in a forward pass)."""

from __future__ import annotations

import copy
from typing import Any, Callable

import torch
from torch import nn

from .gradients import parameter_names


def final_linear_name(model: nn.Module, n_features: int, device: torch.device) -> str:
    """Name of the last nn.Linear that one forward pass of a (1, n_features) input calls."""
    called: list[str] = []
    hooks = [m.register_forward_hook(lambda mod, inp, out, name=name: called.append(name))
             for name, m in model.named_modules() if isinstance(m, nn.Linear)]
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(torch.zeros(1, n_features, device=device))
    finally:
        for h in hooks:
            h.remove()
        model.train(was_training)
    if not called:
        raise ValueError(f"layer=None needs a model with an nn.Linear layer; "
                         f"{type(model).__name__} calls none: allowed layer= one of "
                         f"{layer_names(model)}")
    return called[-1]


def layer_names(model: nn.Module) -> list[str]:
    """Modules that hold parameters of their own (what `layer` may name)."""
    return [name for name, m in model.named_modules()
            if name and any(True for _ in m.parameters(recurse=False))]


def layer_parameters(model: nn.Module, layer: str | None, n_features: int,
                     device: torch.device) -> list[str]:
    """Parameter names whose per-sample gradients form the signature.

    layer=None: the weight and bias of the final nn.Linear (the paper's "fc"); a module
    name: every parameter under that module. Checked by gradients.parameter_names.
    """
    if layer is None:
        layer = final_linear_name(model, n_features, device)
    modules = dict(model.named_modules())  # the model itself is "" (a bare nn.Linear)
    if not isinstance(layer, str) or layer not in modules:
        raise ValueError(f"layer={layer!r} is not a layer of {type(model).__name__}: allowed "
                         f"None (the final nn.Linear) or one of {layer_names(model)}")
    prefix = f"{layer}." if layer else ""
    names = [prefix + n for n, _ in modules[layer].named_parameters()]
    if not names:
        raise ValueError(f"layer={layer!r} has no parameters: allowed one of {layer_names(model)}")
    return parameter_names(model, names)


def _check_model_param(model: Any) -> None:
    if model is not None and not callable(model):
        raise ValueError(f"model={model!r} is invalid: allowed None (the default MLP), a "
                         f"factory model(n_features, n_classes) -> nn.Module, or an nn.Module")


def _module_device(model: nn.Module) -> torch.device:
    """Where a module's parameters live (CPU for a module without parameters)."""
    first = next(iter(model.parameters()), None)
    return first.device if first is not None else torch.device("cpu")


def _check_output_width(model: nn.Module, n_features: int, n_classes: int) -> None:
    """The model must map (B, n_features) float32 inputs to (B, n_classes) logits."""
    device = _module_device(model)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            out = model(torch.zeros(2, n_features, device=device))
    finally:
        model.train(was_training)
    if tuple(out.shape) != (2, n_classes):
        raise ValueError(f"model maps (B, {n_features}) inputs to shape {tuple(out.shape[1:])} "
                         f"outputs: allowed (B, {n_classes}) logits, one per class of y")


def _factory(model: Any) -> Callable[[int, int], nn.Module] | None:
    """train.fit's make_model for the `model` parameter (None: the config's MLP)."""
    if model is None:
        return None

    def make(d: int, c: int) -> nn.Module:
        if isinstance(model, nn.Module):
            built = copy.deepcopy(model)  # start from the user's weights, never edit them
        else:
            built = model(d, c)
        if not isinstance(built, nn.Module):
            raise ValueError(f"model(n_features, n_classes) returned {type(built).__name__}: "
                             f"allowed an nn.Module")
        _check_output_width(built, d, c)
        return built
    return make


