#!/usr/bin/env python3
"""A plain, textbook fine-tune in Debian's PyTorch, for comparison with graft's default and its own training step:
the Keras ImageNet MobileNet v1 0.75 (read from its TF.js files by bench/d2l_finetune.py's loader), a new Xavier
head, SGD with momentum, the head at 10x, cosine decay per step, weight decay, the book's augmentation
(RandomResizedCrop(224) + horizontal flip), BatchNorm in training mode, float32. Prints one JSON line.

    /usr/bin/python3 bench/torch_finetune.py --data ../shared/data/sketch7 --weights ../shared/models/keras-mobilenet_v1_0.75_224 --lr 5e-3 --seed 1
"""
import argparse
import json
import math
import os
import sys
import time

import torch
import torchvision
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from d2l_finetune import load_tfjs, mobilenet_v1  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", required=True)
    p.add_argument("--weights", required=True)
    p.add_argument("--lr", type=float, default=5e-3, help="mean-loss learning rate of the copied layers")
    p.add_argument("--head-lr-mult", type=float, default=10)
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--weight-decay", type=float, default=1e-4)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--workers", type=int, default=2)
    args = p.parse_args()
    t0 = time.perf_counter()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    normalize = torchvision.transforms.Normalize([0.5, 0.5, 0.5], [0.5, 0.5, 0.5])
    train_augs = torchvision.transforms.Compose([torchvision.transforms.RandomResizedCrop(224),
        torchvision.transforms.RandomHorizontalFlip(), torchvision.transforms.ToTensor(), normalize])
    test_augs = torchvision.transforms.Compose([torchvision.transforms.Resize([256, 256]),
        torchvision.transforms.CenterCrop(224), torchvision.transforms.ToTensor(), normalize])
    rgb = lambda path: torchvision.datasets.folder.default_loader(path)
    train = torchvision.datasets.ImageFolder(os.path.join(args.data, "train"), transform=train_augs, loader=rgb)
    test = torchvision.datasets.ImageFolder(os.path.join(args.data, "test"), transform=test_augs, loader=rgb)
    body, dim = mobilenet_v1(load_tfjs(args.weights))
    fc = nn.Linear(dim, len(train.classes))
    nn.init.xavier_uniform_(fc.weight)
    nn.init.zeros_(fc.bias)
    # channels-last: PyTorch 1.13's depthwise convolutions are several times faster so on CPU (as bench/torch_bench.py runs it)
    net = nn.Sequential(body, fc).to(memory_format=torch.channels_last)
    train_iter = torch.utils.data.DataLoader(train, batch_size=args.batch_size, shuffle=True, num_workers=args.workers)
    test_iter = torch.utils.data.DataLoader(test, batch_size=64, num_workers=args.workers)
    opt = torch.optim.SGD([{"params": body.parameters()}, {"params": fc.parameters(), "lr": args.lr * args.head_lr_mult}],
                          lr=args.lr, momentum=args.momentum, weight_decay=args.weight_decay)
    total_steps = args.epochs * len(train_iter)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.5 * (1 + math.cos(math.pi * min(s, total_steps) / total_steps)))
    loss = nn.CrossEntropyLoss()
    history = []
    for epoch in range(args.epochs):
        net.train()
        for X, y in train_iter:
            opt.zero_grad()
            loss(net(X.to(memory_format=torch.channels_last)), y).backward()
            opt.step()
            sched.step()
        net.eval()
        correct = n = 0
        with torch.no_grad():
            for X, y in test_iter:
                correct += int((net(X.to(memory_format=torch.channels_last)).argmax(1) == y).sum())
                n += y.numel()
        history.append(correct / n)
        print(f"epoch {epoch + 1}: test acc {correct / n:.4f} ({time.perf_counter() - t0:.0f} s)", file=sys.stderr, flush=True)
    print(json.dumps({"impl": "torch-finetune", "lr": args.lr, "seed": args.seed, "test_acc": history[-1],
                      "history": history, "seconds": time.perf_counter() - t0}))


if __name__ == "__main__":
    main()
