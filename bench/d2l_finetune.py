#!/usr/bin/env python3
"""The book's fine-tuning code as the book writes it (Dive into Deep Learning, 14.2: train_fine_tuning with
d2l's train_ch13), float32, in Debian's PyTorch; the source model is Keras's ImageNet MobileNet v1 (read from its
TF.js files, TensorFlow's 'same' padding kept) instead of ResNet-18, whose weights cannot be downloaded here.
Prints one line per epoch with the wall-clock seconds since start, then a JSON summary.

    /usr/bin/python3 bench/d2l_finetune.py --data ../shared/data/hotdog --weights ../shared/models/keras-mobilenet_v1_0.75_224
"""
import argparse
import json
import os
import time

T0 = time.perf_counter()

import numpy as np
import torch
import torchvision
from torch import nn
import torch.nn.functional as F


def load_tfjs(folder):
    """Weights of a TF.js layers model by name (float32 shards in manifest order)."""
    manifest = json.load(open(os.path.join(folder, "model.json")))["weightsManifest"]
    out = {}
    for group in manifest:
        data = b"".join(open(os.path.join(folder, p), "rb").read() for p in group["paths"])
        offset = 0
        for w in group["weights"]:
            n = int(np.prod(w["shape"]))
            out[w["name"]] = np.frombuffer(data, dtype=np.float32, count=n, offset=offset).reshape(w["shape"])
            offset += 4 * n
    return out


class SamePad(nn.Module):
    """TensorFlow 'same' padding for stride 2 on even sizes: nothing before, one row and column after."""
    def forward(self, x):
        return F.pad(x, (0, 1, 0, 1))


def mobilenet_v1(weights, alpha=0.75):
    c = lambda ch: int(ch * alpha)
    w = lambda k: torch.from_numpy(np.array(weights[k]))
    def bn(name, ch):
        b = nn.BatchNorm2d(ch, eps=1e-3)
        b.weight.data, b.bias.data = w(name + "/gamma"), w(name + "/beta")
        b.running_mean.data, b.running_var.data = w(name + "/moving_mean"), w(name + "/moving_variance")
        return b
    conv = nn.Conv2d(3, c(32), 3, 2, 0, bias=False)
    conv.weight.data = w("conv1/kernel").permute(3, 2, 0, 1).contiguous()
    layers = [SamePad(), conv, bn("conv1_bn", c(32)), nn.ReLU6()]
    cfg = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2)] + [(512, 1)] * 5 + [(1024, 2), (1024, 1)]
    inp = c(32)
    for i, (out, stride) in enumerate(cfg, start=1):
        dw = nn.Conv2d(inp, inp, 3, stride, 1 if stride == 1 else 0, groups=inp, bias=False)
        dw.weight.data = w(f"conv_dw_{i}/depthwise_kernel").permute(2, 3, 0, 1).contiguous()
        pw = nn.Conv2d(inp, c(out), 1, bias=False)
        pw.weight.data = w(f"conv_pw_{i}/kernel").permute(3, 2, 0, 1).contiguous()
        layers += ([SamePad()] if stride == 2 else []) + [dw, bn(f"conv_dw_{i}_bn", inp), nn.ReLU6(), pw, bn(f"conv_pw_{i}_bn", c(out)), nn.ReLU6()]
        inp = c(out)
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten()), inp


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", required=True)
    p.add_argument("--weights", required=True)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--workers", type=int, default=4, help="d2l.get_dataloader_workers(): 4")
    p.add_argument("--epochs", type=int, default=5)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    # the book's augmentations, with the weights' own normalisation (Keras MobileNet: pixels to [-1, 1])
    normalize = torchvision.transforms.Normalize([0.5, 0.5, 0.5], [0.5, 0.5, 0.5])
    train_augs = torchvision.transforms.Compose([torchvision.transforms.RandomResizedCrop(224),
        torchvision.transforms.RandomHorizontalFlip(), torchvision.transforms.ToTensor(), normalize])
    test_augs = torchvision.transforms.Compose([torchvision.transforms.Resize([256, 256]),
        torchvision.transforms.CenterCrop(224), torchvision.transforms.ToTensor(), normalize])
    body, dim = mobilenet_v1(load_tfjs(args.weights))
    classes = len(os.listdir(os.path.join(args.data, "train")))
    fc = nn.Linear(dim, classes)
    nn.init.xavier_uniform_(fc.weight)
    net = nn.Sequential(body, fc)
    # train_fine_tuning(finetune_net, 5e-5): batch 128, 5 epochs, the new layer at 10x, weight decay 0.001
    lr, batch_size = 5e-5, 128
    train_iter = torch.utils.data.DataLoader(torchvision.datasets.ImageFolder(os.path.join(args.data, "train"), transform=train_augs),
                                             batch_size=batch_size, shuffle=True, num_workers=args.workers)
    test_iter = torch.utils.data.DataLoader(torchvision.datasets.ImageFolder(os.path.join(args.data, "test"), transform=test_augs),
                                            batch_size=batch_size, num_workers=args.workers)
    loss = nn.CrossEntropyLoss(reduction="none")
    trainer = torch.optim.SGD([{"params": body.parameters()}, {"params": fc.parameters(), "lr": lr * 10}], lr=lr, weight_decay=0.001)
    history = []
    for epoch in range(args.epochs):  # d2l.train_ch13
        net.train()
        total, correct, lsum = 0, 0, 0.0
        for X, y in train_iter:
            trainer.zero_grad()
            pred = net(X)
            l = loss(pred, y)
            l.sum().backward()
            trainer.step()
            lsum += float(l.sum())
            correct += int((pred.argmax(1) == y).sum())
            total += y.numel()
        net.eval()
        tc, tn = 0, 0
        with torch.no_grad():
            for X, y in test_iter:
                tc += int((net(X).argmax(1) == y).sum())
                tn += y.numel()
        t = time.perf_counter() - T0
        history.append({"epoch": epoch + 1, "seconds": t, "train_loss": lsum / total, "train_acc": correct / total, "test_acc": tc / tn})
        print(f"epoch {epoch + 1}: loss {lsum / total:.3f}, train acc {correct / total:.3f}, test acc {tc / tn:.3f}, {t:.1f} s since start", flush=True)
    print(json.dumps({"impl": "d2l-pytorch-fp32", "torch": torch.__version__, "history": history}))


if __name__ == "__main__":
    main()
