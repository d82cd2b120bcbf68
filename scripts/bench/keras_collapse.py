"""How often does the Keras VAE recipe collapse in its first epoch, in PyTorch?

    python scripts/bench/keras_collapse.py [--seeds 1-8] [--threads 1]

`scripts/examples/keras-vae.vae` trains the Keras example's model (Conv2D 32/64 stride 2,
Dense(16) ReLU, two Dense(2) heads, latent 2, Keras's glorot_uniform initialisation, Adam 1e-3,
batch 128, 70,000 grey MNIST images). On some seeds the encoder goes silent in the first epoch:
the KL falls to 0.00 and stays there, and the loss sits at about 206 nats (the decoder draws the
average digit whatever z is). This port runs the first epoch of the same recipe for several
seeds and prints, per seed, the epoch's average loss and KL and how many of the Dense(16) units
still answer to any of 1,000 training images, so vaesh's rate of collapse can be compared with
PyTorch's. It is an experiment, not a benchmark: nothing in CI runs it.
"""
import argparse
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

import mnist


class KerasVAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(1, 32, 3, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(32, 64, 3, stride=2, padding=1), nn.ReLU(),
            nn.Flatten(), nn.Linear(3136, 16), nn.ReLU())
        self.mu = nn.Linear(16, 2)
        self.logvar = nn.Linear(16, 2)
        self.decoder = nn.Sequential(
            nn.Linear(2, 3136), nn.ReLU(), nn.Unflatten(1, (64, 7, 7)),
            nn.ConvTranspose2d(64, 64, 3, stride=2, padding=1, output_padding=1), nn.ReLU(),
            nn.ConvTranspose2d(64, 32, 3, stride=2, padding=1, output_padding=1), nn.ReLU(),
            nn.ConvTranspose2d(32, 1, 3, padding=1))
        # Keras: glorot_uniform kernels, zero biases.
        for module in self.modules():
            if isinstance(module, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
                nn.init.xavier_uniform_(module.weight)
                nn.init.zeros_(module.bias)

    def forward(self, x):
        h = self.encoder(x)
        mu, logvar = self.mu(h), self.logvar(h)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        return self.decoder(z), mu, logvar, h


def first_epoch(seed, images):
    torch.manual_seed(seed)
    model = KerasVAE()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    order = torch.randperm(len(images))
    total, kl_total, count = 0.0, 0.0, 0
    for start in range(0, len(images), 128):
        x = images[order[start:start + 128]]
        logits, mu, logvar, _ = model(x)
        recon = F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / len(x)
        kl = (-0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(dim=1)).mean()
        loss = recon + kl
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += loss.item() * len(x)
        kl_total += kl.item() * len(x)
        count += len(x)
    with torch.no_grad():
        _, _, _, h = model(images[:1000])
    alive = int((h > 0).any(dim=0).sum())
    return total / count, kl_total / count, alive


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", default="1-8", help="a range, e.g. 1-8")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    first, last = (int(s) for s in args.seeds.split("-"))
    train, test = mnist.load()
    images = torch.from_numpy(np.concatenate([train, test])).reshape(-1, 1, 28, 28)
    collapsed = 0
    for seed in range(first, last + 1):
        started = time.time()
        loss, kl, alive = first_epoch(seed, images)
        collapsed += kl < 0.01
        print(f"seed {seed}: epoch 1 loss {loss:.2f} nats, KL {kl:.3f} nats, Dense(16) units alive {alive} of 16"
              f"{'  COLLAPSED' if kl < 0.01 else ''} ({time.time() - started:.0f} s)", flush=True)
    print(f"{collapsed} of {last - first + 1} seeds collapsed in their first epoch")


if __name__ == "__main__":
    main()
