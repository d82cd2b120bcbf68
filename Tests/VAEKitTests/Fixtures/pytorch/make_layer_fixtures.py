"""PyTorch's own numbers for each layer VAEKit builds: the golden outputs of LayerParityTests.

For every case below, a torch.nn.Sequential of the layers (float64, so that a difference means a
different formula, not rounding) runs forward on a random input x, then backward from
sum(output * r) with r random, and this script records x, r, the parameters, the buffers before
and after (BatchNorm in training mode updates its running statistics), the output, d/dx and every
parameter's gradient. Tensor names are the state_dict's with a "layer." prefix, as VAEKit's
per-layer harness names them ("layer.0.weight").

Run from the repository root with torch installed (CI does not; the JSON is committed):
    python Tests/VAEKitTests/Fixtures/pytorch/make_layer_fixtures.py
"""
import json
import os

import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))

# name: (layers, input shape without the batch, rows, mode). The same cases, by name, are built
# from LayerSpec in LayerParityTests.swift.
CASES = {
    "linear": (lambda: [nn.Linear(5, 3)], (5,), 4, "eval"),
    "linear-no-bias": (lambda: [nn.Linear(5, 3, bias=False)], (5,), 4, "eval"),
    "conv2d": (lambda: [nn.Conv2d(2, 3, 3)], (2, 6, 7), 2, "eval"),
    "conv2d-stride-padding": (lambda: [nn.Conv2d(2, 3, 3, stride=2, padding=1)], (2, 7, 6), 2, "eval"),
    "conv2d-rectangular": (lambda: [nn.Conv2d(2, 3, (2, 3), stride=(2, 1), padding=(1, 2), dilation=(1, 2))], (2, 5, 8), 2, "eval"),
    "conv2d-same": (lambda: [nn.Conv2d(2, 3, 4, padding="same")], (2, 5, 6), 2, "eval"),
    "conv2d-no-bias": (lambda: [nn.Conv2d(2, 3, 3, bias=False)], (2, 5, 5), 2, "eval"),
    "conv-transpose2d": (lambda: [nn.ConvTranspose2d(2, 3, 3)], (2, 4, 5), 2, "eval"),
    "conv-transpose2d-stride-padding": (lambda: [nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1, output_padding=1)], (2, 3, 4), 2, "eval"),
    "conv-transpose2d-rectangular": (lambda: [nn.ConvTranspose2d(2, 2, (3, 2), stride=(2, 3), padding=(1, 0), output_padding=(1, 2),
                                                                 dilation=(2, 1), bias=False)], (2, 3, 3), 2, "eval"),
    "flatten": (lambda: [nn.Conv2d(2, 3, 3, stride=2), nn.Flatten(), nn.Linear(12, 4)], (2, 5, 6), 2, "eval"),
    "unflatten": (lambda: [nn.Linear(3, 8), nn.Unflatten(1, (2, 2, 2)), nn.ConvTranspose2d(2, 1, 3, stride=2)], (3,), 2, "eval"),
    "batchnorm1d-train": (lambda: [nn.BatchNorm1d(5)], (5,), 6, "train"),
    "batchnorm1d-eval": (lambda: [nn.BatchNorm1d(5)], (5,), 6, "eval"),
    "batchnorm2d-train": (lambda: [nn.BatchNorm2d(3, momentum=0.3)], (3, 3, 2), 4, "train"),
    "batchnorm2d-no-affine-train": (lambda: [nn.BatchNorm2d(3, affine=False)], (3, 2, 2), 3, "train"),
    "batchnorm2d-eval": (lambda: [nn.BatchNorm2d(3, eps=0.01)], (3, 3, 2), 4, "eval"),
    "relu": (lambda: [nn.ReLU()], (7,), 3, "eval"),
    "leaky-relu": (lambda: [nn.LeakyReLU(0.2)], (7,), 3, "eval"),
    "elu": (lambda: [nn.ELU(alpha=0.5)], (7,), 3, "eval"),
    "tanh": (lambda: [nn.Tanh()], (7,), 3, "eval"),
    "softplus": (lambda: [nn.Softplus()], (7,), 3, "eval"),
    "softplus-beta-threshold": (lambda: [nn.Softplus(beta=2, threshold=3)], (7,), 3, "eval"),
    "sigmoid": (lambda: [nn.Sigmoid()], (7,), 3, "eval"),
    "gelu": (lambda: [nn.GELU()], (7,), 3, "eval"),
}


def flat(tensor):
    return tensor.detach().reshape(-1).tolist()


def main():
    torch.manual_seed(12)
    cases = {}
    for name, (make, shape, rows, mode) in CASES.items():
        model = nn.Sequential(*make()).double()
        # Non-trivial BatchNorm state: γ, β and the running statistics away from their defaults.
        for module in model:
            if isinstance(module, nn.modules.batchnorm._BatchNorm):
                with torch.no_grad():
                    if module.affine:
                        module.weight.uniform_(0.5, 1.5)
                        module.bias.uniform_(-0.5, 0.5)
                    module.running_mean.uniform_(-0.3, 0.3)
                    module.running_var.uniform_(0.5, 2)
                    module.num_batches_tracked.fill_(7)
        model.train(mode == "train")
        before = {k: flat(v.double()) for k, v in model.state_dict().items() if k not in dict(model.named_parameters())}
        x = (torch.rand(rows, *shape, dtype=torch.float64) * 2 - 1)
        x = torch.where(x.abs() < 0.05, x + 0.1, x).requires_grad_(True)  # away from the kinks, as the gradient tests
        parameters = {k: flat(v) for k, v in model.named_parameters()}
        output = model(x)
        r = torch.rand_like(output) * 2 - 1
        (output * r).sum().backward()
        after = {k: flat(v.double()) for k, v in model.state_dict().items() if k not in dict(model.named_parameters())}
        cases[name] = {
            "input_shape": list(shape),
            "rows": rows,
            "mode": mode,
            "x": flat(x),
            "r": flat(r),
            "parameters": {f"layer.{k}": v for k, v in parameters.items()},
            "buffers_before": {f"layer.{k}": v for k, v in before.items()},
            "buffers_after": {f"layer.{k}": v for k, v in after.items()},
            "output": flat(output),
            "dx": flat(x.grad),
            "gradients": {f"layer.{k}": flat(v.grad) for k, v in model.named_parameters()},
        }
    with open(os.path.join(HERE, "layers.json"), "w") as f:
        json.dump({"torch": torch.__version__, "cases": cases}, f, separators=(",", ":"))


if __name__ == "__main__":
    main()
