"""The PyTorch reference: the pytorch/examples VAE (784-400-20, ReLU, Bernoulli on grey levels,
Adam 1e-3, batch 128, loss summed over the batch), timed as vaesh-bench times VAEKit.

    python reference_torch.py MODE [--threads N] [--seed S] [--epochs E] [--k K] [--limit L]
                              [--model mlp|tf-cvae] [--batch B] [--train-limit T]

--model tf-cvae is TensorFlow's CVAE tutorial written in PyTorch (the architecture of issue 12,
the same layers as vaesh-bench's model=tf-cvae; Bernoulli from logits, Adam 1e-4 as the tutorial
uses, loss summed over the batch). --train-limit trains on the first T training images (a subset
per "epoch", the same on both sides); --batch sets the training batch.

MODE: epoch (training epochs; seconds per epoch, without the test evaluation), quality (epochs,
then the test loss with one draw per example), elbo (every term on the 10,000 test images, one
draw each), logpx (the IWAE estimate with K samples on the first L test images). Prints one JSON
line. The model is the example's, line for line (sigmoid decoder, binary_cross_entropy); the data
is held as one tensor and batches are drawn by a random permutation each epoch, as a DataLoader
with shuffle=True does, without the DataLoader's per-image overhead (which would only slow
PyTorch down).
"""
import argparse
import json
import math
import resource
import time

import torch
import torch.nn.functional as F
from torch import nn

import mnist


class VAE(nn.Module):
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
        eps = torch.randn_like(std)
        return mu + eps * std

    def decode_logits(self, z):
        return self.fc4(F.relu(self.fc3(z)))

    def decode(self, z):
        return torch.sigmoid(self.decode_logits(z))

    def forward(self, x):
        mu, logvar = self.encode(x.view(-1, 784))
        z = self.reparameterize(mu, logvar)
        return self.decode(z), mu, logvar


class TFCVAE(nn.Module):
    """TensorFlow's "Convolutional Variational Autoencoder" tutorial, in PyTorch's layers (NCHW):
    the encoder ends in one Linear split in half as [μ | log σ²], latent 2."""
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(1, 32, 3, stride=2), nn.ReLU(), nn.Conv2d(32, 64, 3, stride=2), nn.ReLU(),
            nn.Flatten(), nn.Linear(2304, 4))
        self.decoder = nn.Sequential(
            nn.Linear(2, 1568), nn.ReLU(), nn.Unflatten(1, (32, 7, 7)),
            nn.ConvTranspose2d(32, 64, 3, stride=2, padding=1, output_padding=1), nn.ReLU(),
            nn.ConvTranspose2d(64, 32, 3, stride=2, padding=1, output_padding=1), nn.ReLU(),
            nn.ConvTranspose2d(32, 1, 3, padding=1), nn.Flatten())

    def encode(self, x):
        mu, logvar = self.encoder(x.view(-1, 1, 28, 28)).chunk(2, dim=1)
        return mu, logvar

    reparameterize = VAE.reparameterize

    def decode_logits(self, z):
        return self.decoder(z)

    def forward(self, x):
        mu, logvar = self.encode(x)
        return self.decode_logits(self.reparameterize(mu, logvar)), mu, logvar


def logits_loss(logits, x, mu, logvar):
    """−ELBO summed over the batch, from logits (as vaesh computes it for any architecture)."""
    bce = F.binary_cross_entropy_with_logits(logits, x.view(-1, 784), reduction="sum")
    kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return bce + kld


def loss_function(recon_x, x, mu, logvar):
    bce = F.binary_cross_entropy(recon_x, x.view(-1, 784), reduction="sum")
    kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return bce + kld


def train_epoch(model, optimizer, train, batch_size=128):
    model.train()
    order = torch.randperm(train.shape[0])
    start = time.perf_counter()
    total = 0.0
    for begin in range(0, train.shape[0], batch_size):
        data = train[order[begin:begin + batch_size]]
        optimizer.zero_grad()
        recon, mu, logvar = model(data)
        loss = (logits_loss if isinstance(model, TFCVAE) else loss_function)(recon, data, mu, logvar)
        loss.backward()
        total += loss.item()
        optimizer.step()
    return time.perf_counter() - start, total / train.shape[0]


@torch.no_grad()
def test_loss(model, test, batch_size=1000):
    model.eval()
    total = 0.0
    for begin in range(0, test.shape[0], batch_size):
        data = test[begin:begin + batch_size]
        recon, mu, logvar = model(data)
        total += loss_function(recon, data, mu, logvar).item()
    return total / test.shape[0]


@torch.no_grad()
def elbo_terms(model, test, batch_size=1000):
    """Reconstruction, KL and ELBO per example, one draw each (logits, as VAEKit computes them)."""
    recon = kl = 0.0
    for begin in range(0, test.shape[0], batch_size):
        x = test[begin:begin + batch_size]
        mu, logvar = model.encode(x)
        z = model.reparameterize(mu, logvar)
        logits = model.decode_logits(z)
        recon += -F.binary_cross_entropy_with_logits(logits, x, reduction="sum").item()
        kl += (-0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())).item()
    n = test.shape[0]
    return recon / n, kl / n, (recon - kl) / n


@torch.no_grad()
def log_px(model, images, k, row_budget=4096):
    """log p(x) ≈ log (1/K) Σ_k p(x|z_k) p(z_k) / q(z_k|x), K draws per image, a few images at a time."""
    per_pass = max(1, row_budget // k)
    results = []
    log2pi = math.log(2 * math.pi)
    for begin in range(0, images.shape[0], per_pass):
        x = images[begin:begin + per_pass]                      # (n, 784)
        mu, logvar = model.encode(x)                           # (n, 20)
        std = torch.exp(0.5 * logvar)
        eps = torch.randn(x.shape[0], k, 20)
        z = mu[:, None, :] + std[:, None, :] * eps            # (n, K, 20)
        logits = model.decode_logits(z.reshape(-1, 20))        # (n·K, 784)
        log_px_z = -F.binary_cross_entropy_with_logits(
            logits, x.repeat_interleave(k, dim=0), reduction="none").sum(-1).view(-1, k)
        log_pz = (-0.5 * (z.pow(2) + log2pi)).sum(-1)
        log_qz = (-0.5 * (eps.pow(2) + log2pi + logvar[:, None, :])).sum(-1)
        results.append(torch.logsumexp(log_px_z + log_pz - log_qz, dim=1) - math.log(k))
    return torch.cat(results).mean().item()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["epoch", "quality", "elbo", "logpx"])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--k", type=int, default=1000)
    parser.add_argument("--limit", type=int, default=1000)
    parser.add_argument("--model", choices=["mlp", "tf-cvae"], default="mlp")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--train-limit", type=int, default=None)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    train, test = (torch.from_numpy(a) for a in mnist.load())
    if args.train_limit:
        train = train[:args.train_limit]
    model = TFCVAE() if args.model == "tf-cvae" else VAE()
    result = {"mode": args.mode, "model": args.model, "threads": torch.get_num_threads(), "torch": torch.__version__}

    if args.mode in ("epoch", "quality"):
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-4 if args.model == "tf-cvae" else 1e-3)
        seconds, losses = [], []
        for _ in range(args.epochs):
            elapsed, loss = train_epoch(model, optimizer, train, args.batch)
            seconds.append(elapsed)
            losses.append(loss)
        result.update(seconds=seconds, train_loss=losses)
        if args.mode == "quality":
            result["test_loss"] = test_loss(model, test)
    elif args.mode == "elbo":
        start = time.perf_counter()
        recon, kl, elbo = elbo_terms(model, test)
        result.update(seconds=time.perf_counter() - start, elbo=elbo, examples=test.shape[0])
    else:
        images = test[:args.limit]
        start = time.perf_counter()
        value = log_px(model, images, args.k)
        result.update(seconds=time.perf_counter() - start, logpx=value, examples=images.shape[0], k=args.k)
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


if __name__ == "__main__":
    main()
