"""PyTorch's two binary cross-entropies, for the parity tests of `whatis`.

PyTorch computes the reconstruction term of a Bernoulli VAE either from probabilities,
F.binary_cross_entropy(torch.sigmoid(logits), x), which clamps each log at -100, or from logits,
F.binary_cross_entropy_with_logits(logits, x), which is exact. They differ where a probability
saturates to exactly 0 or 1 in float32. This script writes, with real PyTorch:

  bce_saturated.safetensors  logits, targets, torch.sigmoid(logits) and both losses elementwise
                             (float32), on logits from -120 to 120 including the saturated ones;
                             the 'sum' reductions in the metadata.
  vae_saturated.safetensors  a 784-4-2 VAE in the pytorch/examples layout whose decoder ignores z
                             and outputs the logit 30 for every pixel (sigmoid(30) is 1.0 in
                             float32), and whose encoder outputs mu = 1, log sigma^2 = 0 (KL = 1
                             per example); the metadata holds what PyTorch computes for it on the
                             first 200 test images of the embedded MNIST subset, per example.

Run from the repository root with torch and safetensors installed:
    python Tests/VAEFormatsTests/Fixtures/pytorch/make_bce_fixture.py
"""
import os

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import save_file

import embedded_mnist

HERE = os.path.dirname(os.path.abspath(__file__))


def elementwise():
    saturated = [-120.0, -100.0, -95.0, -90.0, -88.0, -50.0, -20.0, -16.7, 16.7, 17.0, 20.0, 50.0, 120.0]
    ordinary = [-5.0, -0.3, 0.0, 0.3, 5.0, 16.0]
    logits = torch.tensor(saturated + ordinary, dtype=torch.float32)
    targets = torch.tensor([0.0, 0.25, 0.5, 1.0], dtype=torch.float32)
    logits, targets = torch.meshgrid(logits, targets, indexing="ij")
    logits, targets = logits.reshape(-1).contiguous(), targets.reshape(-1).contiguous()
    probabilities = torch.sigmoid(logits)
    from_probabilities = F.binary_cross_entropy(probabilities, targets, reduction="none")
    from_logits = F.binary_cross_entropy_with_logits(logits, targets, reduction="none")
    metadata = {
        "torch": torch.__version__,
        "bce_probabilities_sum": repr(F.binary_cross_entropy(probabilities, targets, reduction="sum").item()),
        "bce_logits_sum": repr(F.binary_cross_entropy_with_logits(logits, targets, reduction="sum").item()),
    }
    save_file({"logits": logits, "targets": targets, "probabilities": probabilities,
               "bce_probabilities": from_probabilities, "bce_logits": from_logits},
              os.path.join(HERE, "bce_saturated.safetensors"), metadata=metadata)


def test_images(count):
    data = np.frombuffer(embedded_mnist.idx_bytes("t10k-images-idx3-ubyte"), dtype=np.uint8, offset=16)
    return torch.from_numpy(data[: count * 784].astype(np.float32).reshape(count, 784) / 255.0)


def saturated_vae():
    torch.manual_seed(0)
    hidden, latent = 4, 2
    state = {
        "fc1.weight": torch.zeros(hidden, 784), "fc1.bias": torch.zeros(hidden),
        "fc21.weight": torch.zeros(latent, hidden), "fc21.bias": torch.ones(latent),
        "fc22.weight": torch.zeros(latent, hidden), "fc22.bias": torch.zeros(latent),
        "fc3.weight": torch.zeros(hidden, latent), "fc3.bias": torch.zeros(hidden),
        "fc4.weight": torch.zeros(784, hidden), "fc4.bias": torch.full((784,), 30.0),
    }
    x = test_images(200)
    mu = F.linear(F.relu(F.linear(x, state["fc1.weight"], state["fc1.bias"])), state["fc21.weight"], state["fc21.bias"])
    logvar = F.linear(F.relu(F.linear(x, state["fc1.weight"], state["fc1.bias"])), state["fc22.weight"], state["fc22.bias"])
    z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
    logits = F.linear(F.relu(F.linear(z, state["fc3.weight"], state["fc3.bias"])), state["fc4.weight"], state["fc4.bias"])
    recon_x = torch.sigmoid(logits)
    kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    n = x.shape[0]
    metadata = {
        "torch": torch.__version__,
        "examples": str(n),
        # pytorch/examples' loss_function with reduction='sum', per example.
        "bce_probabilities_per_example": repr(F.binary_cross_entropy(recon_x, x, reduction="sum").item() / n),
        "bce_logits_per_example": repr(F.binary_cross_entropy_with_logits(logits, x, reduction="sum").item() / n),
        "kl_per_example": repr(kld.item() / n),
        "probabilities_equal_to_one": repr(bool((recon_x == 1).all().item())),
    }
    save_file(state, os.path.join(HERE, "vae_saturated.safetensors"), metadata=metadata)


if __name__ == "__main__":
    elementwise()
    saturated_vae()
