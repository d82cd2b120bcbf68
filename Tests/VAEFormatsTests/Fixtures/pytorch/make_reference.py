"""The PyTorch reference for VAEKit's parity test.

Builds the pytorch/examples VAE (784-400-20, ReLU, Bernoulli, nn.Linear's default initialisation),
trains it for 200 Adam steps on the embedded MNIST subset as that example does, saves it with
`safetensors.torch.save_file(model.state_dict(), ...)`, and writes what PyTorch computes for it on
the first 20 test images: the analytic KL, log p(x|z=μ), and Monte-Carlo estimates of
E_q[log p(x|z)] with their standard errors.

Run from the repository root with torch and safetensors installed:
    python Tests/VAEFormatsTests/Fixtures/pytorch/make_reference.py
"""
import json
import os

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import save_file
from torch import nn

import embedded_mnist

HERE = os.path.dirname(os.path.abspath(__file__))


class VAE(nn.Module):
    """Exactly the model of pytorch/examples/vae/main.py."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 400)
        self.fc21 = nn.Linear(400, 20)
        self.fc22 = nn.Linear(400, 20)
        self.fc3 = nn.Linear(20, 400)
        self.fc4 = nn.Linear(400, 784)

    def encode(self, x):
        h1 = F.relu(self.fc1(x))
        return self.fc21(h1), self.fc22(h1)

    def reparameterize(self, mu, logvar):
        std = torch.exp(0.5 * logvar)
        return mu + torch.randn_like(std) * std

    def decode(self, z):
        return torch.sigmoid(self.fc4(F.relu(self.fc3(z))))

    def forward(self, x):
        mu, logvar = self.encode(x.view(-1, 784))
        z = self.reparameterize(mu, logvar)
        return self.decode(z), mu, logvar


def loss_function(recon_x, x, mu, logvar):
    bce = F.binary_cross_entropy(recon_x, x.view(-1, 784), reduction="sum")
    kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return bce + kld


def images(name):
    data = embedded_mnist.idx_bytes(name)
    count = int.from_bytes(data[4:8], "big")
    return torch.from_numpy(np.frombuffer(data, np.uint8, offset=16).reshape(count, 784).astype(np.float32) / 255)


def main():
    torch.manual_seed(1)
    torch.set_num_threads(1)
    model = VAE()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    train = images("train-images-idx3-ubyte")
    order = torch.randperm(train.shape[0])
    for step in range(200):
        batch = train[order[(step * 128) % 9984:(step * 128) % 9984 + 128]]
        optimizer.zero_grad()
        recon, mu, logvar = model(batch)
        loss_function(recon, batch, mu, logvar).backward()
        optimizer.step()
    save_file(model.state_dict(), os.path.join(HERE, "vae_784_400_20.safetensors"))

    test = images("t10k-images-idx3-ubyte")[:20]
    samples = 2000
    with torch.no_grad():
        mu, logvar = model.encode(test)
        kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp(), dim=1)
        at_mean = -F.binary_cross_entropy(model.decode(mu), test, reduction="none").sum(dim=1)
        draws = []
        for _ in range(samples):
            z = model.reparameterize(mu, logvar)
            draws.append(-F.binary_cross_entropy(model.decode(z), test, reduction="none").sum(dim=1))
        draws = torch.stack(draws)
        recon = draws.mean(dim=0)
        recon_se = draws.std(dim=0) / samples ** 0.5
        recon_x, mu1, logvar1 = model(test)
        example_loss = loss_function(recon_x, test, mu1, logvar1).item() / test.shape[0]
    reference = {
        "torch": torch.__version__,
        "examples": test.shape[0],
        "samples": samples,
        "kl": kl.tolist(),
        "log_likelihood_at_mean": at_mean.tolist(),
        "reconstruction": recon.tolist(),
        "reconstruction_se": recon_se.tolist(),
        "loss_one_draw_per_example": example_loss,
    }
    with open(os.path.join(HERE, "vae_784_400_20.expected.json"), "w") as f:
        json.dump(reference, f, indent=1)


if __name__ == "__main__":
    main()
