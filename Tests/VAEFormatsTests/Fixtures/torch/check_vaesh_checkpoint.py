#!/usr/bin/env python3
"""PyTorch's side of the round trip: a .pt file vaesh wrote, loaded the way a user loads it.

    python check_vaesh_checkpoint.py CASE.json RESULT.json

TorchRoundTripTests.swift writes CASE.json ({"checkpoint": PATH, "inputs": [[x_1 … x_D], …]}) and
runs this with the Python named by VAESH_TORCH_PYTHON. It checks what a user relies on:

- torch.load(PATH, weights_only=True) reads the file, as an OrderedDict of contiguous float32
  CPU tensors and nothing else (no key the model does not have);
- torch.load(PATH, weights_only=True, mmap=True) gives the same tensors;
- the architecture recorded in the archive's vaesh.json rebuilds the model in PyTorch, and
  model.load_state_dict(state_dict, strict=True) accepts the state dict;

then computes, in float64 from those float32 parameters, for each input x: the encoder's μ and
log σ², the closed-form KL(q(z|x) ‖ N(0, I)) and log p(x | z = μ) under the recorded likelihood.
It writes them to RESULT.json for the Swift test to compare with vaesh's own, prints a short
table, and exits 1 if a check fails.
"""
import json
import math
import sys
import zipfile
from collections import OrderedDict

import torch
import torch.nn.functional as F
from torch import nn


class VAE(nn.Module):
    """vaesh's MLP VAE in PyTorch, with vaesh's parameter names: fc1, fc1_2, … (encoder hidden),
    fc21 (μ head), fc22 (log σ² head), fc3, fc3_2, … (decoder hidden), fc4 (output), logvar_x."""

    def __init__(self, configuration):
        super().__init__()
        d, z = configuration["inputSize"], configuration["latentSize"]
        encoder = configuration["encoderHidden"]
        decoder = configuration.get("decoderHidden") or list(reversed(encoder))
        self.activation = {"relu": F.relu, "tanh": torch.tanh, "softplus": F.softplus}[configuration["activation"]]
        self.likelihood = configuration["likelihood"]
        self.encoder_names = ["fc1" if k == 0 else f"fc1_{k + 1}" for k in range(len(encoder))]
        self.decoder_names = ["fc3" if k == 0 else f"fc3_{k + 1}" for k in range(len(decoder))] + ["fc4"]
        for name, (n_in, n_out) in zip(self.encoder_names, zip([d] + encoder, encoder)):
            setattr(self, name, nn.Linear(n_in, n_out))
        self.fc21 = nn.Linear(encoder[-1], z)
        self.fc22 = nn.Linear(encoder[-1], z)
        for name, (n_in, n_out) in zip(self.decoder_names, zip([z] + decoder, decoder + [d])):
            setattr(self, name, nn.Linear(n_in, n_out))
        if "gaussianLearned" in self.likelihood:
            self.logvar_x = nn.Parameter(torch.zeros(d))

    def encode(self, x):
        h = x
        for name in self.encoder_names:
            h = self.activation(getattr(self, name)(h))
        return self.fc21(h), self.fc22(h)

    def decode(self, z):
        h = z
        for name in self.decoder_names[:-1]:
            h = self.activation(getattr(self, name)(h))
        return self.fc4(h)

    def log_likelihood(self, output, x):
        if "bernoulli" in self.likelihood:
            return -F.binary_cross_entropy_with_logits(output, x, reduction="none").sum(dim=1)
        if "gaussian" in self.likelihood:
            sigma = self.likelihood["gaussian"]["sigma"]
            return (-0.5 * math.log(2 * math.pi * sigma ** 2) - (x - output) ** 2 / (2 * sigma ** 2)).sum(dim=1)
        v = self.logvar_x
        return (-0.5 * (math.log(2 * math.pi) + v) - (x - output) ** 2 * torch.exp(-v) / 2).sum(dim=1)


def main(case_path, result_path):
    case = json.load(open(case_path))
    path = case["checkpoint"]
    failures = []

    state_dict = torch.load(path, weights_only=True)
    if type(state_dict) is not OrderedDict:
        failures.append(f"torch.load gave a {type(state_dict).__name__}, not an OrderedDict")
    for key, tensor in state_dict.items():
        if not (isinstance(tensor, torch.Tensor) and tensor.dtype == torch.float32 and tensor.is_contiguous()
                and tensor.device.type == "cpu"):
            failures.append(f"{key} is not a contiguous float32 CPU tensor")
    mapped = torch.load(path, weights_only=True, mmap=True)
    if list(mapped) != list(state_dict) or not all(torch.equal(mapped[k], state_dict[k]) for k in state_dict):
        failures.append("mmap=True gives other tensors")

    with zipfile.ZipFile(path) as archive:
        folder = archive.namelist()[0].split("/")[0]
        metadata = json.loads(archive.read(f"{folder}/vaesh.json"))
    configuration = json.loads(metadata["vaesh.configuration"])
    model = VAE(configuration)
    model.load_state_dict(state_dict, strict=True)
    # The layers' tensors in the order the module's own state_dict() gives them (fc21's weight and
    # bias, then fc22's). A parameter of the module itself (logvar_x) comes first in PyTorch's
    # state_dict wherever it was defined; vaesh writes it last, which load_state_dict does not mind.
    def layer_keys(keys):
        return [key for key in keys if "." in key]
    if layer_keys(model.state_dict()) != layer_keys(state_dict):
        failures.append(f"the file's layers {layer_keys(state_dict)} are not in the order of the module's "
                        f"state_dict() {layer_keys(model.state_dict())}")
    model = model.double()

    x = torch.tensor(case["inputs"], dtype=torch.float64)
    with torch.no_grad():
        mu, logvar = model.encode(x)
        kl = -0.5 * (1 + logvar - mu ** 2 - logvar.exp()).sum(dim=1)
        log_likelihood = model.log_likelihood(model.decode(mu), x)

    result = {
        "torch": torch.__version__, "keys": list(state_dict), "configuration": configuration,
        "mean": mu.tolist(), "log_variance": logvar.tolist(), "kl": kl.tolist(),
        "log_likelihood_at_mean": log_likelihood.tolist(), "failures": failures,
    }
    json.dump(result, open(result_path, "w"))
    print(f"{path}: torch {torch.__version__}, {len(state_dict)} tensors, {metadata.get('vaesh.architecture')} "
          f"{configuration['activation']} {list(configuration['likelihood'])[0]}: load_state_dict(strict=True) ok")
    print(f"{'example':>7} {'KL (nats)':>14} {'log p(x|z=mu) (nats)':>22}")
    for n, (k, l) in enumerate(zip(kl.tolist(), log_likelihood.tolist())):
        print(f"{n:>7} {k:>14.6f} {l:>22.6f}")
    for failure in failures:
        print("FAILED:", failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
