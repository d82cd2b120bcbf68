import VAEScript
