"""The VAE layouts users actually save (issue 13), as tiny models with real PyTorch, each with
the numbers PyTorch computes for it: make_torch_fixtures.py calls write_layouts(); run alone with

    /work/torchenv/bin/python Tests/VAEFormatsTests/Fixtures/torch/layouts.py

Each layouts/NAME.json says which file holds the weights, the `open` options that describe the
model (what its tensors cannot tell), the input shape, and per example: x, one ε, and PyTorch's
KL(q(z|x) ‖ p(z)) in closed form, log p(x|z=μ), the ELBO at z = μ + σ⊙ε (log p(x|z) − KL), and
log p̂(x) by importance sampling with K draws with its standard error (delta method:
std(w)/(mean(w)·√K)). Every reference number is computed in float64 on the float32 weights,
so vaesh (float32) must agree to float32 rounding. The models: the pytorch/examples layout
saved with torch.save(model.state_dict()); an nn.Sequential MLP with a split 2Z head saved with
safetensors (whose names come sorted, encoder.10 before encoder.2); fc_mu/fc_var heads in a
checkpoint dict of a DataParallel model; Pyro's tutorial VAE (softplus hidden layers, z_scale =
exp(fc22), its decoder's output layer also called fc21); a model whose σ = softplus(head), with
heads named mu/sigma; and a convolutional VAE with BatchNorm2d (running statistics moved by a
few training steps) whose strides and paddings only its class knows.
"""
import json
import math
import os

import torch
import torch.nn.functional as F
from safetensors.torch import save_file
from torch import nn

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "layouts")
K = 5000


def sigma_from(head, variance):
    return {"logvar": lambda h: torch.exp(h / 2), "logstd": torch.exp, "std": lambda h: h,
            "softplus-std": F.softplus}[variance](head)


class Examples(nn.Module):
    """pytorch/examples' VAE, 16-8-3."""

    def __init__(self):
        super().__init__()
        self.fc1, self.fc21, self.fc22 = nn.Linear(16, 8), nn.Linear(8, 3), nn.Linear(8, 3)
        self.fc3, self.fc4 = nn.Linear(3, 8), nn.Linear(8, 16)

    def encode(self, x):
        h = F.relu(self.fc1(x))
        return self.fc21(h), self.fc22(h)

    def decode(self, z):
        return self.fc4(F.relu(self.fc3(z)))


class Sequential(nn.Module):
    """Two nn.Sequential stacks, six Linear layers in the encoder (indices up to 10), tanh, one 2Z head."""

    def __init__(self):
        super().__init__()
        widths = [16, 14, 12, 12, 10, 10]
        layers = []
        for a, b in zip(widths, widths[1:]):
            layers += [nn.Linear(a, b), nn.Tanh()]
        self.encoder = nn.Sequential(*layers, nn.Linear(10, 4))
        self.decoder = nn.Sequential(nn.Linear(2, 10), nn.Tanh(), nn.Linear(10, 16))

    def encode(self, x):
        return self.encoder(x).chunk(2, dim=1)

    def decode(self, z):
        return self.decoder(z)


class MuVar(nn.Module):
    """fc_mu/fc_var heads after two hidden layers; decoder fc3, fc4, fc5 (a mirrored 3-8-12-16)."""

    def __init__(self):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(16, 12), nn.Linear(12, 8)
        self.fc_mu, self.fc_var = nn.Linear(8, 3), nn.Linear(8, 3)
        self.fc3, self.fc4, self.fc5 = nn.Linear(3, 8), nn.Linear(8, 12), nn.Linear(12, 16)

    def encode(self, x):
        h = F.relu(self.fc2(F.relu(self.fc1(x))))
        return self.fc_mu(h), self.fc_var(h)

    def decode(self, z):
        return self.fc5(F.relu(self.fc4(F.relu(self.fc3(z)))))


class PyroEncoder(nn.Module):
    def __init__(self, d, h, z):
        super().__init__()
        self.fc1, self.fc21, self.fc22 = nn.Linear(d, h), nn.Linear(h, z), nn.Linear(h, z)


class PyroDecoder(nn.Module):
    def __init__(self, d, h, z):
        super().__init__()
        self.fc3, self.fc21 = nn.Linear(z, h), nn.Linear(h, d)


class Pyro(nn.Module):
    """Pyro's VAE tutorial: softplus hidden layers, z_scale = exp(fc22(hidden)), sigmoid output."""

    def __init__(self, d=16, h=8, z=3):
        super().__init__()
        self.encoder, self.decoder = PyroEncoder(d, h, z), PyroDecoder(d, h, z)

    def encode(self, x):
        h = F.softplus(self.encoder.fc1(x))
        return self.encoder.fc21(h), self.encoder.fc22(h)

    def decode(self, z):
        # Pyro's decoder returns sigmoid(logits) and scores x with Bernoulli(probs): the same p(x|z).
        return self.decoder.fc21(F.softplus(self.decoder.fc3(z)))


class SoftplusStd(nn.Module):
    """σ = softplus(sigma(h)): heads named mu and sigma, encoder and decoder as Sequentials."""

    def __init__(self):
        super().__init__()
        self.enc = nn.Sequential(nn.Linear(16, 8), nn.ReLU())
        self.mu, self.sigma = nn.Linear(8, 3), nn.Linear(8, 3)
        self.dec = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 16))

    def encode(self, x):
        h = self.enc(x)
        return self.mu(h), self.sigma(h)

    def decode(self, z):
        return self.dec(z)


class Conv(nn.Module):
    """1×8×8 → Conv2d(1,4,3,stride=2,padding=1) BatchNorm2d ReLU Conv2d(4,8,3,stride=2,padding=1) ReLU
    Flatten → fc_mu/fc_logvar (Z=2) → Linear(2,32) ReLU Unflatten(8,2,2) ConvTranspose2d ×2."""

    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Conv2d(1, 4, 3, stride=2, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                                     nn.Conv2d(4, 8, 3, stride=2, padding=1), nn.ReLU(), nn.Flatten())
        self.fc_mu, self.fc_logvar = nn.Linear(32, 2), nn.Linear(32, 2)
        self.decoder = nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Unflatten(1, (8, 2, 2)),
                                     nn.ConvTranspose2d(8, 4, 3, stride=2, padding=1, output_padding=1), nn.ReLU(),
                                     nn.ConvTranspose2d(4, 1, 3, stride=2, padding=1, output_padding=1))

    def encode(self, x):
        h = self.encoder(x.view(-1, 1, 8, 8))
        return self.fc_mu(h), self.fc_logvar(h)

    def decode(self, z):
        return self.decoder(z).flatten(1)


def bernoulli_log_likelihood(x, logits):
    return (x * logits - F.softplus(logits)).sum(dim=1)


def references(model, x, variance, eps, seed):
    """PyTorch's numbers per example, in float64 on the model's float32 weights."""
    model = model.double().eval()
    x = x.double()
    with torch.no_grad():
        mu, head = model.encode(x)
        sigma = sigma_from(head, variance)
        kl = 0.5 * (mu ** 2 + sigma ** 2 - 1 - 2 * torch.log(sigma)).sum(dim=1)
        at_mean = bernoulli_log_likelihood(x, model.decode(mu))
        elbo = bernoulli_log_likelihood(x, model.decode(mu + sigma * eps.double())) - kl
        generator = torch.Generator().manual_seed(seed)
        log_px, se = [], []
        for n in range(x.shape[0]):
            e = torch.randn(K, mu.shape[1], generator=generator, dtype=torch.float64)
            z = mu[n] + sigma[n] * e
            log_w = (bernoulli_log_likelihood(x[n].expand(K, -1), model.decode(z))
                     - 0.5 * (z ** 2).sum(1) + 0.5 * (e ** 2).sum(1) + torch.log(sigma[n]).sum())
            log_px.append((torch.logsumexp(log_w, 0) - math.log(K)).item())
            w = torch.exp(log_w - log_w.max())
            se.append((w.std() / (w.mean() * math.sqrt(K))).item())
    return {"kl": kl.tolist(), "log_px_given_mu": at_mean.tolist(), "elbo": elbo.tolist(), "log_px": log_px, "log_px_se": se}


def write(name, model, variance, options, save, d=16, input_shape=None, train=False):
    torch.manual_seed(len(name))
    x = torch.bernoulli(torch.full((4, d), 0.4))
    if train:
        # A few steps in training mode move BatchNorm's running statistics away from 0 and 1.
        model.train()
        optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
        for _ in range(5):
            mu, head = model.encode(torch.bernoulli(torch.full((8, d), 0.4)))
            optimizer.zero_grad()
            (mu.pow(2).sum() + head.pow(2).sum()).backward()
            optimizer.step()
    model.eval()
    file = save(model)
    eps = torch.randn(4, 3 if name != "sequential" else 2)
    if name == "conv":
        eps = torch.randn(4, 2)
    numbers = references(model, x, variance, eps, seed=len(name))
    with open(os.path.join(HERE, name + ".json"), "w") as f:
        json.dump({"file": file, "open": options, "input": input_shape or [d], "x": x.tolist(), "eps": eps.tolist(),
                   "k": K, **numbers}, f, indent=1)
        f.write("\n")


def pt(name, wrap=lambda sd: sd):
    def save(model):
        path = os.path.join(HERE, name + ".pt")
        torch.save(wrap(model.state_dict()), path)
        from make_torch_fixtures import pin_serialization_id   # the one random record, pinned: reruns give the same bytes
        pin_serialization_id(path)
        return name + ".pt"
    return save


def write_layouts():
    os.makedirs(HERE, exist_ok=True)
    torch.manual_seed(1)
    write("examples", Examples(), "logvar", {}, pt("examples"))
    torch.manual_seed(2)

    def safetensors(model):
        save_file({k: v.contiguous() for k, v in model.state_dict().items()}, os.path.join(HERE, "sequential.safetensors"))
        return "sequential.safetensors"
    write("sequential", Sequential(), "logvar", {"activation": "tanh"}, safetensors)
    torch.manual_seed(3)
    write("mu_var", MuVar(), "logvar", {}, pt("mu_var", lambda sd: {"epoch": 12, "model_state_dict": {"module." + k: v for k, v in sd.items()}}))
    torch.manual_seed(4)
    write("pyro", Pyro(), "logstd", {"activation": "softplus", "variance": "logstd"}, pt("pyro"))
    torch.manual_seed(5)
    write("softplus_std", SoftplusStd(), "softplus-std", {"variance": "softplus-std"}, pt("softplus_std"))
    torch.manual_seed(6)
    write("conv", Conv(), "logvar", {}, pt("conv"), d=64, input_shape=[1, 8, 8], train=True)
    refusals()
    # The lesson's file (scripts/examples/your-own-model.vae opens it as vae.pt): Pyro's VAE for
    # MNIST, 784-8-2 so it stays small, as PyTorch initialised it.
    torch.manual_seed(10)
    pt("pyro_mnist")(Pyro(784, 8, 2))
    for name in sorted(os.listdir(HERE)):
        print(f"layouts/{name}: {os.path.getsize(os.path.join(HERE, name))} bytes")


def refusals():
    """Files vaesh must refuse rather than guess about (no .json: the catalogue and the Swift
    tests hold their messages): a tensor that belongs to no layer, a μ head without its partner,
    and two Linear layers that chain in two orders the file's own order cannot tell apart."""
    torch.manual_seed(7)
    sd = Examples().state_dict()
    pt("leftover")(type("M", (), {"state_dict": lambda self: {**sd, "prior_scale": torch.ones(3)}})())
    torch.manual_seed(8)
    mu_only = {k: v for k, v in MuVar().state_dict().items() if not k.startswith("fc_var")}
    pt("lone_head")(type("M", (), {"state_dict": lambda self: mu_only})())
    # Encoder 8→8 and decoder 3→8, 8→8: which 8→8 layer is the encoder's, only the class knows.
    torch.manual_seed(9)
    square = {"a.weight": torch.randn(8, 8), "fc_mu.weight": torch.randn(3, 8), "fc_logvar.weight": torch.randn(3, 8),
              "b.weight": torch.randn(8, 3), "c.weight": torch.randn(8, 8)}
    pt("ambiguous_chain")(type("M", (), {"state_dict": lambda self: square})())


if __name__ == "__main__":
    write_layouts()
