"""The PyTorch reference for VAEKit's convolutional parity tests.

Builds two conv VAEs as PyTorch code writes them (an nn.Sequential encoder and decoder), trains each
for 100 Adam steps on the embedded MNIST subset, saves it with
`safetensors.torch.save_file(model.state_dict(), ...)`, and writes what PyTorch computes for the
first 16 test images in evaluation mode: the closed-form KL, log p(x|z=μ) from the logits, and
the one-draw ELBO log p(x|z=μ+σε) − KL for a recorded ε.

- tf_cvae: TensorFlow's CVAE tutorial in PyTorch terms (REFERENCES.md): split head, latent 2,
  pixels binarised at 0.5, batch 32.
- bn_cvae: a Keras-like model with BatchNorm1d/2d, LeakyReLU, ELU, GELU and Softplus, and the
  two-Linear head (fc21, fc22), on grey levels; trained in train mode, so its running statistics
  are PyTorch's own. `num_batches_tracked` is int64 in PyTorch; it is saved as float32 here
  because vaesh's safetensors reader takes floating-point tensors only.

Run from the repository root with torch and safetensors installed (CI does not; the outputs are
committed):
    python Tests/VAEFormatsTests/Fixtures/pytorch/make_conv_reference.py
"""
import gzip
import json
import os

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import save_file
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
MNIST = os.path.join(HERE, "..", "..", "..", "..", "Sources", "VAEFormats", "Resources", "MNIST")


class VAE(nn.Module):
    def __init__(self, encoder, decoder, heads=None):
        super().__init__()
        self.encoder = encoder
        if heads is not None:
            self.fc21, self.fc22 = heads
        self.decoder = decoder
        self.split = heads is None

    def encode(self, x):
        h = self.encoder(x)
        if self.split:
            mu, logvar = h.chunk(2, dim=1)
            return mu, logvar
        return self.fc21(h), self.fc22(h)

    def forward(self, x, eps):
        mu, logvar = self.encode(x)
        z = mu + torch.exp(0.5 * logvar) * eps
        return self.decoder(z), mu, logvar


def tf_cvae():
    encoder = nn.Sequential(nn.Conv2d(1, 32, 3, stride=2), nn.ReLU(), nn.Conv2d(32, 64, 3, stride=2), nn.ReLU(),
                            nn.Flatten(), nn.Linear(2304, 4))
    decoder = nn.Sequential(nn.Linear(2, 1568), nn.ReLU(), nn.Unflatten(1, (32, 7, 7)),
                            nn.ConvTranspose2d(32, 64, 3, stride=2, padding=1, output_padding=1), nn.ReLU(),
                            nn.ConvTranspose2d(64, 32, 3, stride=2, padding=1, output_padding=1), nn.ReLU(),
                            nn.ConvTranspose2d(32, 1, 3, padding=1))
    return VAE(encoder, decoder)


def bn_cvae():
    encoder = nn.Sequential(nn.Conv2d(1, 16, 3, stride=2, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
                            nn.Conv2d(16, 32, 3, stride=2, padding=1), nn.BatchNorm2d(32), nn.LeakyReLU(0.1),
                            nn.Flatten(), nn.Linear(1568, 16), nn.BatchNorm1d(16), nn.ELU())
    decoder = nn.Sequential(nn.Linear(2, 1568), nn.GELU(), nn.Unflatten(1, (32, 7, 7)),
                            nn.ConvTranspose2d(32, 16, 3, stride=2, padding=1, output_padding=1), nn.BatchNorm2d(16), nn.Softplus(),
                            nn.ConvTranspose2d(16, 1, 3, stride=2, padding=1, output_padding=1))
    return VAE(encoder, decoder, heads=(nn.Linear(16, 2), nn.Linear(16, 2)))


def images(name, binarise):
    with gzip.open(os.path.join(MNIST, name)) as f:
        data = f.read()
    count = int.from_bytes(data[4:8], "big")
    x = torch.from_numpy(np.frombuffer(data, np.uint8, offset=16).reshape(count, 1, 28, 28).astype(np.float32) / 255)
    return (x > 0.5).float() if binarise else x


def terms(model, x, eps):
    """Per example: closed-form KL, log p(x|μ), and the one-draw ELBO with ε (Bernoulli on logits)."""
    def log_likelihood(logits):
        return -F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(dim=1)
    mu, logvar = model.encode(x)
    kl = 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(dim=1)
    at_mean = log_likelihood(model.decoder(mu))
    logits, _, _ = model(x, eps)
    return kl, at_mean, log_likelihood(logits) - kl


def main():
    torch.set_num_threads(1)
    for name, make, binarise, batch in (("tf_cvae", tf_cvae, True, 32), ("bn_cvae", bn_cvae, False, 64)):
        torch.manual_seed(3)
        model = make()
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        train = images("train-images-idx3-ubyte.gz", binarise)
        order = torch.randperm(train.shape[0])
        model.train()
        for step in range(100):
            x = train[order[step * batch:(step + 1) * batch]]
            logits, mu, logvar = model(x, torch.randn(x.shape[0], 2))
            recon = F.binary_cross_entropy_with_logits(logits, x, reduction="sum")
            kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
            optimizer.zero_grad()
            (recon + kl).backward()
            optimizer.step()
        model.eval()
        state = {k: (v.float() if k.endswith("num_batches_tracked") else v).contiguous() for k, v in model.state_dict().items()}
        save_file(state, os.path.join(HERE, f"{name}.safetensors"))

        test = images("t10k-images-idx3-ubyte.gz", binarise)[:16]
        eps = torch.randn(16, 2)
        with torch.no_grad():
            kl, at_mean, elbo = terms(model, test, eps)
        reference = {
            "torch": torch.__version__,
            "examples": 16,
            "binarised": binarise,
            "state_dict": list(model.state_dict().keys()),
            "epsilon": eps.flatten().tolist(),
            "kl": kl.tolist(),
            "log_likelihood_at_mean": at_mean.tolist(),
            "elbo": elbo.tolist(),
        }
        with open(os.path.join(HERE, f"{name}.expected.json"), "w") as f:
            json.dump(reference, f, indent=1)


if __name__ == "__main__":
    main()
