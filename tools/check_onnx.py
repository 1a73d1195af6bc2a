#!/usr/bin/env python3
"""Checks a `graft export --format onnx` folder with the ONNX project's own checker, and optionally against
torchvision:

    /usr/bin/python3 tools/check_onnx.py ONNX_EXPORT_DIR [--torchvision SAFETENSORS_EXPORT_DIR] [ONNX_EXPORT_DIR ...]

1. onnx.checker.check_model(model, full_check=True) accepts model.onnx (structure, opset 17 operators and their
   attributes, and shape inference over the whole graph);
2. the model has one input 'pixels' [N, 3, H, W] with a symbolic batch dimension, outputs 'logits' and
   'probabilities', no BatchNormalization node (folded), and labels and preprocessing in its metadata_props
   that agree with labels.json;
3. with --torchvision (a `graft export --format safetensors` folder of the same bundle): torchvision's model of
   that architecture, loaded with those weights (strict=True), computes the ONNX export's example logits
   (example_logits.npy, graft's own) from its example input (pixels, normalised as the metadata says), within
   1e-4 relative L2. The Java tests check that ONNX Runtime computes the same logits from model.onnx.

Several exports can be checked in one run (one interpreter start); each prints OK or MISMATCH, and the exit
status is 0 only when every one is OK. Needs Debian's python3-onnx (1.12), and python3-torch /
python3-torchvision for --torchvision.
"""
import json
import os
import sys
import time

import numpy as np
import onnx


class Mismatch(Exception):
    pass


def fail(msg):
    raise Mismatch(msg)


def no_init():
    """torchvision's constructors initialise every weight (slow for ViT-B/16); the weights are loaded after, strictly."""
    import torch
    for name in ["kaiming_normal_", "kaiming_uniform_", "normal_", "trunc_normal_", "uniform_", "xavier_uniform_",
                 "xavier_normal_", "zeros_", "ones_", "constant_"]:
        setattr(torch.nn.init, name, lambda t, *a, **k: t)


def check(folder, torchvision_dir):
    model = onnx.load(os.path.join(folder, "model.onnx"))
    onnx.checker.check_model(model, full_check=True)
    meta = {p.key: p.value for p in model.metadata_props}
    opsets = {o.domain: o.version for o in model.opset_import}
    ops = sorted({n.op_type for n in model.graph.node})
    print(f"onnx {onnx.__version__}: check_model(full_check=True) passed; IR {model.ir_version}, opset {opsets.get('', '?')}, "
          f"{len(model.graph.node)} nodes ({', '.join(ops)}), {len(model.graph.initializer)} initializers")
    if opsets.get("") is None or opsets[""] < 17:
        fail(f"opset {opsets} is below 17")
    if meta.get("graft.format") != "graft-onnx-1":
        fail("no graft.format in metadata_props")
    if "BatchNormalization" in ops:
        fail("a BatchNormalization node is left (should be folded)")
    inputs = [i for i in model.graph.input if i.name not in {t.name for t in model.graph.initializer}]
    if [i.name for i in inputs] != ["pixels"] or [o.name for o in model.graph.output] != ["logits", "probabilities"]:
        fail(f"inputs {[i.name for i in inputs]}, outputs {[o.name for o in model.graph.output]}")
    batch = inputs[0].type.tensor_type.shape.dim[0]
    if not batch.dim_param or batch.HasField("dim_value"):
        fail("the batch dimension is not symbolic")
    labels = json.load(open(os.path.join(folder, "labels.json")))
    if json.loads(meta["labels"]) != labels:
        fail("metadata labels differ from labels.json")
    pre = json.loads(meta["preprocessing"])
    size = inputs[0].type.tensor_type.shape.dim[2].dim_value
    if pre["crop"] != size:
        fail(f"metadata crop {pre['crop']} but input size {size}")
    print(f"metadata: {len(labels)} labels, preprocessing {pre}")
    if torchvision_dir is not None:
        import torch
        import torchvision
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        from check_export import load_safetensors
        no_init()
        state, st_meta = load_safetensors(os.path.join(torchvision_dir, "model.safetensors"))
        arch = st_meta["graft_architecture"]
        net = torchvision.models.get_model(arch, num_classes=len(labels))
        result = net.load_state_dict(state, strict=True)
        net.eval()
        pixels = np.load(os.path.join(folder, "example_input.npy"))
        mean = np.array(pre["mean"], dtype=np.float32).reshape(1, 3, 1, 1)
        std = np.array(pre["std"], dtype=np.float32).reshape(1, 3, 1, 1)
        x = torch.from_numpy(((pixels - mean) / std).astype(np.float32))
        want = np.load(os.path.join(folder, "example_logits.npy"))
        with torch.no_grad():
            got = net(x).numpy()
        rel = float(np.linalg.norm(got - want) / max(np.linalg.norm(want), 1e-12))
        print(f"torch {torch.__version__}, torchvision {torchvision.__version__}: {arch}(num_classes={len(labels)}) "
              f"load_state_dict(strict=True): {result}; on the ONNX export's example input, relative L2 to its logits {rel:.2e}")
        if not rel <= 1e-4:
            fail(f"torchvision's logits differ from the export's by {rel:.2e}")


def main(args):
    jobs = []
    i = 0
    while i < len(args):
        if i + 2 < len(args) and args[i + 1] == "--torchvision":
            jobs.append((args[i], args[i + 2]))
            i += 3
        else:
            jobs.append((args[i], None))
            i += 1
    bad = 0
    for folder, tv in jobs:
        start = time.time()
        print(f"== {folder}")
        try:
            check(folder, tv)
            print(f"OK ({time.time() - start:.1f} s)")
        except (Mismatch, onnx.checker.ValidationError, OSError, KeyError, ValueError) as e:
            print(f"MISMATCH: {folder}: {e}")
            bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    if len(sys.argv) < 2:
        print(__doc__)
        sys.exit(2)
    sys.exit(main(sys.argv[1:]))
