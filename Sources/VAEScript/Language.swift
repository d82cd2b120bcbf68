import VAEKit
