#!/usr/bin/env python3
"""The same workloads as `graft bench`, in PyTorch, for an honest comparison on the same machine.

    /usr/bin/python3 bench/torch_bench.py --model resnet18 --mode train --batch-size 32 --threads 2

Modes: train (forward + backward + SGD step on a fixed random batch), infer (eval forward), pipeline (decode +
RandomResizedCrop + flip + ToTensor + Normalize of real JPEGs through a DataLoader), epoch (a training epoch on
real JPEGs through a DataLoader), matmul (peak float32 GFLOP/s of one large matmul).
Prints one JSON line: median images/s over the timed iterations after warm-up, min, max, peak RSS.
--channels-last runs the network in channels-last memory order (PyTorch's best here for both models).
Run it with Debian's python3-torch / python3-torchvision (`/usr/bin/python3`); glibc's allocator settings
(MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=...) are the caller's choice, see bench/compare.sh.
"""
import argparse
import json
import os
import resource
import statistics
import time

import torch
import torch.nn as nn
import torchvision
from torchvision import transforms


class KerasSamePad(nn.Module):
    """TensorFlow's 'same' padding before a stride-2 3x3 convolution of an even size: one row and column after."""
    def forward(self, x):
        return nn.functional.pad(x, (0, 1, 0, 1))


def mobilenet_v1(alpha=0.75, num_classes=2, keras_padding=False):
    """Keras MobileNet v1 layout (conv 3x3/2, 13 depthwise-separable blocks, global pool, classifier).

    keras_padding: the stride-2 convolutions pad as Keras does (one row and column after, as graft computes the
    Keras model); without it they pad one on each side, which is cheaper but not the Keras model's function."""
    def c(ch):
        return int(ch * alpha)

    def conv(i, o, stride, groups=1):
        if keras_padding and stride == 2:
            return [KerasSamePad(), nn.Conv2d(i, o, 3, stride, 0, groups=groups, bias=False)]
        return [nn.Conv2d(i, o, 3, stride, 1, groups=groups, bias=False)]

    layers = conv(3, c(32), 2) + [nn.BatchNorm2d(c(32), eps=1e-3), nn.ReLU6(inplace=True)]
    cfg = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2)] + [(512, 1)] * 5 + [(1024, 2), (1024, 1)]
    inp = c(32)
    for out, stride in cfg:
        layers += conv(inp, inp, stride, inp) + [nn.BatchNorm2d(inp, eps=1e-3), nn.ReLU6(inplace=True),
                   nn.Conv2d(inp, c(out), 1, bias=False), nn.BatchNorm2d(c(out), eps=1e-3), nn.ReLU6(inplace=True)]
        inp = c(out)
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.001), nn.Linear(inp, num_classes))


def model_for(name, keras_padding=False):
    if name.startswith("mobilenet_v1"):
        alpha = float(name.rsplit("_", 1)[1]) if name.count("_") >= 2 else 0.75
        return mobilenet_v1(alpha, keras_padding=keras_padding)
    return torchvision.models.get_model(name, num_classes=2)


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def fold_batchnorm(model):
    """Folds each BatchNorm into the convolution before it (eval only), as graft's predict and serve do."""
    from torch.nn.utils.fusion import fuse_conv_bn_eval
    model.eval()
    if not isinstance(model, nn.Sequential) and not type(model).__name__ == "ResNet":
        # torchvision's other models: torch.fx finds every conv -> batchnorm pair
        from torch.fx.experimental.optimization import fuse
        return fuse(model)
    if isinstance(model, nn.Sequential):
        layers, i = list(model), 0
        out = []
        while i < len(layers):
            if isinstance(layers[i], nn.Conv2d) and i + 1 < len(layers) and isinstance(layers[i + 1], nn.BatchNorm2d):
                out.append(fuse_conv_bn_eval(layers[i], layers[i + 1]))
                i += 2
            else:
                out.append(layers[i])
                i += 1
        return nn.Sequential(*out)
    modules = dict(model.named_modules())
    for name, m in list(modules.items()):  # torchvision ResNet: convN/bnN pairs and downsample.0/.1
        for conv_name, bn_name in [(f"conv{k}", f"bn{k}") for k in (1, 2, 3)] + [("0", "1")]:
            conv, bn = getattr(m, conv_name, None), getattr(m, bn_name, None)
            if isinstance(conv, nn.Conv2d) and isinstance(bn, nn.BatchNorm2d):
                setattr(m, conv_name, fuse_conv_bn_eval(conv, bn))
                setattr(m, bn_name, nn.Identity())
    return model


def bench_compute(args, train):
    model = model_for(args.model, args.keras_padding)
    if not train and args.fold_batchnorm:
        model = fold_batchnorm(model)
    if args.channels_last:
        model = model.to(memory_format=torch.channels_last)
    # NCHW input, as a DataLoader delivers it; the conversion to channels-last is part of each timed step, as in
    # graft (whose network converts its input)
    x = torch.randn(args.batch_size, 3, args.image_size, args.image_size)
    y = torch.arange(args.batch_size) % 2
    opt = torch.optim.SGD(model.parameters(), lr=1e-5, momentum=0.9, weight_decay=1e-3)
    loss_fn = nn.CrossEntropyLoss(reduction="none")
    model.train(train)
    rates = []
    autocast = torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.autocast)
    prof = None
    for it in range(args.warmup + args.iterations):
        if args.profile and it == args.warmup:
            # the timed iterations' operators (bench/profile_table.py sums them per operator)
            prof = torch.autograd.profiler.profile()
            prof.__enter__()
        t0 = time.perf_counter()
        xb = x.contiguous(memory_format=torch.channels_last) if args.channels_last else x
        if train:
            opt.zero_grad()
            with autocast:
                loss = loss_fn(model(xb), y).sum()
            loss.backward()
            opt.step()
        else:
            with torch.inference_mode(), autocast:
                model(xb)
        dt = time.perf_counter() - t0
        if it >= args.warmup:
            rates.append(args.batch_size / dt)
    if prof is not None:
        prof.__exit__(None, None, None)
        prof.export_chrome_trace(args.profile)
    return rates


def loader(args, shuffle=True):
    train_augs = transforms.Compose([
        transforms.RandomResizedCrop(args.image_size), transforms.RandomHorizontalFlip(), transforms.ToTensor(),
        transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
    root = os.path.join(args.data, "train") if os.path.isdir(os.path.join(args.data, "train")) else args.data
    ds = torchvision.datasets.ImageFolder(root, transform=train_augs)
    return torch.utils.data.DataLoader(ds, batch_size=args.batch_size, shuffle=shuffle, num_workers=args.workers,
                                       persistent_workers=args.workers > 0)


def bench_pipeline(args):
    """images/s over whole passes of the folder (per-batch timings would mostly measure the prefetch queue)."""
    dl = loader(args)
    rates = []
    for epoch in range(args.warmup + args.iterations):
        t0, images = time.perf_counter(), 0
        for xb, _ in dl:
            images += xb.shape[0]
        if epoch >= args.warmup:
            rates.append(images / (time.perf_counter() - t0))
    return rates


def bench_epoch(args):
    dl = loader(args)
    model = model_for(args.model, args.keras_padding)
    if args.channels_last:
        model = model.to(memory_format=torch.channels_last)
    opt = torch.optim.SGD(model.parameters(), lr=1e-5, momentum=0.9, weight_decay=1e-3)
    loss_fn = nn.CrossEntropyLoss(reduction="none")
    model.train()
    images, wait, t_start = 0, 0.0, time.perf_counter()
    it = iter(dl)
    for i in range(min(args.iterations, len(dl)) if args.iterations > 0 else len(dl)):
        w0 = time.perf_counter()
        xb, yb = next(it)
        wait += time.perf_counter() - w0
        if args.channels_last:
            xb = xb.to(memory_format=torch.channels_last)
        opt.zero_grad()
        loss_fn(model(xb), yb).sum().backward()
        opt.step()
        images += xb.shape[0]
    total = time.perf_counter() - t_start
    return [images / total], {"wait_seconds": wait, "total_seconds": total}


def bench_matmul(args):
    n = 4096
    a, b = torch.randn(n, n), torch.randn(n, n)
    for _ in range(2):
        a @ b
    rates = []
    for _ in range(args.iterations):
        t0 = time.perf_counter()
        a @ b
        rates.append(2 * n ** 3 / (time.perf_counter() - t0) / 1e9)
    return rates


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", default="resnet18")
    p.add_argument("--mode", default="train", choices=["train", "infer", "pipeline", "epoch", "matmul"])
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--image-size", type=int, default=224)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--iterations", type=int, default=10)
    p.add_argument("--channels-last", action="store_true")
    p.add_argument("--keras-padding", action="store_true",
                   help="mobilenet_v1: pad the stride-2 convolutions as Keras does (graft's function), not symmetrically")
    p.add_argument("--fold-batchnorm", action="store_true", help="infer: fold BatchNorm into the convolutions first")
    p.add_argument("--autocast", action="store_true", help="train/infer under torch.autocast(cpu, bfloat16)")
    p.add_argument("--data", default="../shared/data/hotdog")
    p.add_argument("--profile", help="train/infer: write the timed iterations' operators as a chrome trace to this file")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    extra = {}
    if args.mode in ("train", "infer"):
        try:
            rates = bench_compute(args, args.mode == "train")
        except RuntimeError as e:
            # e.g. torch 1.13 has no bfloat16 backward for ReLU6 (hardtanh): autocast cannot train MobileNet v1
            print(json.dumps({"impl": "pytorch", "torch": torch.__version__, "model": args.model, "mode": args.mode,
                              "error": str(e).splitlines()[0]}))
            return
    elif args.mode == "pipeline":
        rates = bench_pipeline(args)
    elif args.mode == "epoch":
        rates, extra = bench_epoch(args)
    else:
        rates = bench_matmul(args)
    out = {"impl": "pytorch", "torch": torch.__version__, "model": args.model, "mode": args.mode, "batch": args.batch_size,
           "precision": "bf16-autocast" if args.autocast else "fp32",
           "threads": args.threads, "median": statistics.median(rates), "min": min(rates), "max": max(rates),
           "peak_rss_mb": round(peak_rss_mb()), "unit": "GFLOP/s" if args.mode == "matmul" else "images/s"}
    if args.mode == "infer":
        # latency of one timed iteration (a batch), nearest-rank percentiles, as graft bench reports them
        ms = sorted(1000.0 * args.batch_size / r for r in rates)
        out["p50_ms"] = ms[max(0, -(-len(ms) * 50 // 100) - 1)]
        out["p95_ms"] = ms[max(0, -(-len(ms) * 95 // 100) - 1)]
    out.update(extra)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
