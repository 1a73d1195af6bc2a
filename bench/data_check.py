#!/usr/bin/python3
"""Helpers of bench/data_check.sh: build noisy label CSVs, inject near-duplicates and placeholders (into a folder
outside the repository; the shared images are read in place, never copied), and score graft check's check.json
against what was injected. Seeded: the same arguments give the same files and the same numbers.

A pair's ground truth ("is this the same photo?") comes from pixels, independently of graft's features:
same_photo() is the best normalised cross-correlation of the two images in grey at 48x48 over horizontal flips,
crops of one image keeping 50-100% of its side at any position, in both directions."""
import csv
import json
import os
import random
import sys

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFont, ImageOps

EXT = (".jpg", ".jpeg", ".png", ".bmp", ".gif")


def images(root):
    """(split, class, absolute path) of the book's layout, sorted."""
    out = []
    for split in ("train", "test"):
        base = os.path.join(root, split)
        for c in sorted(os.listdir(base)):
            for dirpath, _, files in os.walk(os.path.join(base, c)):
                for f in sorted(files):
                    if f.lower().endswith(EXT) and not f.startswith("."):
                        out.append((split, c, os.path.abspath(os.path.join(dirpath, f))))
    return sorted(out, key=lambda r: (r[0], r[2]))


def write_csv(path, rows):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["file", "label", "split"])
        for r in rows:
            w.writerow(r)


def noisy(root, rate, seed, out_csv, out_truth):
    """rate of the training images get a label drawn uniformly from the other classes."""
    rows = images(root)
    classes = sorted({c for s, c, _ in rows if s == "train"})
    rng = random.Random(seed)
    train = [i for i, r in enumerate(rows) if r[0] == "train"]
    flip = set(rng.sample(train, round(rate * len(train))))
    out, truth = [], []
    for i, (s, c, p) in enumerate(rows):
        label = c
        if i in flip:
            label = rng.choice([k for k in classes if k != c])
            truth.append({"file": p, "true": c, "given": label})
        out.append((p, label, s))
    write_csv(out_csv, out)
    json.dump(truth, open(out_truth, "w"), indent=1)


TRANSFORMS = ("jpeg", "resize60", "crop90", "flip", "bright10")


def transformed(img, kind, rng):
    img = img.convert("RGB")
    w, h = img.size
    if kind == "resize60":
        return img.resize((max(1, round(w * 0.6)), max(1, round(h * 0.6))), Image.BICUBIC)
    if kind == "crop90":
        cw, ch = round(w * 0.9), round(h * 0.9)
        x, y = rng.randint(0, w - cw), rng.randint(0, h - ch)
        return img.crop((x, y, x + cw, y + ch))
    if kind == "flip":
        return ImageOps.mirror(img)
    if kind == "bright10":
        return ImageEnhance.Brightness(img).enhance(1.10)
    return img  # jpeg: re-encoded below


def duplicates(root, n, seed, out_dir, out_csv, out_truth):
    """n test images get a transformed copy (the kinds in turn) added to the training rows: train/test leaks."""
    rows = images(root)
    rng = random.Random(seed)
    test = [r for r in rows if r[0] == "test"]
    picked = rng.sample(test, n)
    os.makedirs(out_dir, exist_ok=True)
    extra, truth = [], []
    for k, (s, c, p) in enumerate(picked):
        kind = TRANSFORMS[k % len(TRANSFORMS)]
        q = os.path.join(out_dir, "%02d-%s-%s.jpg" % (k, kind, os.path.splitext(os.path.basename(p))[0]))
        transformed(Image.open(p), kind, rng).save(q, "JPEG", quality=75)
        extra.append((os.path.abspath(q), c, "train"))
        truth.append({"copy": os.path.abspath(q), "source": p, "kind": kind})
    write_csv(out_csv, [(p, c, s) for s, c, p in rows] + extra)
    json.dump(truth, open(out_truth, "w"), indent=1)


def placeholders(root, cls, out_dir, out_csv, out_truth):
    """A solid grey image, a "no image" text card and a 1x1 pixel image, labelled cls among the training rows."""
    os.makedirs(out_dir, exist_ok=True)
    grey = os.path.join(out_dir, "grey.png")
    Image.new("RGB", (320, 240), (128, 128, 128)).save(grey)
    card = os.path.join(out_dir, "no-image.png")
    im = Image.new("RGB", (400, 300), (238, 238, 238))
    d = ImageDraw.Draw(im)
    d.rectangle((150, 70, 250, 150), outline=(160, 160, 160), width=6)
    d.line((150, 150, 250, 70), fill=(160, 160, 160), width=6)
    try:
        font = ImageFont.truetype("DejaVuSans.ttf", 30)
    except OSError:
        font = ImageFont.load_default()
    d.text((90, 185), "no image available", fill=(120, 120, 120), font=font)
    im.save(card)
    pixel = os.path.join(out_dir, "one-pixel.png")
    Image.new("RGB", (1, 1), (201, 87, 33)).save(pixel)
    rows = [(p, c, s) for s, c, p in images(root)]
    extra = [(os.path.abspath(f), cls, "train") for f in (grey, card, pixel)]
    write_csv(out_csv, rows + extra)
    json.dump([e[0] for e in extra], open(out_truth, "w"), indent=1)


def grey(path, size, flip=False):
    im = Image.open(path).convert("L")
    if flip:
        im = ImageOps.mirror(im)
    w, h = size if isinstance(size, tuple) else (size, size)
    return np.asarray(im.resize((w, h), Image.BILINEAR), dtype=np.float64)


SCALES = (1.0, 0.9, 0.8, 0.7, 0.6, 0.5)


def same_photo(a, b, size=48):
    """Best normalised cross-correlation of b (at size x size) against crops of a keeping 50-100% of its width and,
    independently, of its height (crops of squashed images change the aspect), flipped or not, at any position (step
    2 px), and the other way round: about 1 for a copy, a crop, a flip or a re-encoding of the same photo."""
    from numpy.lib.stride_tricks import sliding_window_view
    best = -1.0
    for p, q in ((a, b), (b, a)):
        t = grey(q, size)
        t = (t - t.mean()) / (t.std() + 1e-9)
        for flip in (False, True):
            for sx in SCALES:
                for sy in SCALES:
                    big = grey(p, (int(round(size / sx)), int(round(size / sy))), flip)
                    win = sliding_window_view(big, (size, size))[::2, ::2]
                    mu = win.mean(axis=(2, 3), keepdims=True)
                    sd = win.std(axis=(2, 3), keepdims=True) + 1e-9
                    corr = (((win - mu) / sd) * t).mean(axis=(2, 3))
                    best = max(best, float(corr.max()))
    return best


def score_labels(check_json, truth_json):
    c = json.load(open(check_json))
    truth = {t["file"] for t in json.load(open(truth_json))}
    flagged = {i["file"] for i in c["label_issues"]}
    hit = len(flagged & truth)
    p = hit / len(flagged) if flagged else float("nan")
    r = hit / len(truth) if truth else float("nan")
    print(json.dumps({"injected": len(truth), "flagged": len(flagged), "correct": hit, "precision": round(p, 3), "recall": round(r, 3),
                      "train_images": c["training_images"], "seconds": c["seconds"]["total"]}))


def score_duplicates(check_json, truth_json):
    c = json.load(open(check_json))
    truth = json.load(open(truth_json))
    pairs = {frozenset((d["first"]["file"], d["second"]["file"])) for d in c["duplicates"]}
    found = [t for t in truth if frozenset((t["copy"], t["source"])) in pairs]
    sims = {}
    for d in c["duplicates"]:
        sims[frozenset((d["first"]["file"], d["second"]["file"]))] = d["similarity"]
    missed = [(t["kind"], sims.get(frozenset((t["copy"], t["source"])))) for t in truth if t not in found]
    per = {}
    nearest = {p["file"]: (p["nearest"], p["nearest_similarity"]) for p in c["per_image"]}
    for t in truth:
        nn, s = nearest[t["copy"]]
        per.setdefault(t["kind"], []).append(round(s, 3) if nn == t["source"] else None)
    print(json.dumps({"injected": len(truth), "found": len(found), "missed": missed, "copy_to_source_cosine": per,
                      "threshold": c["thresholds"]["near_duplicate_cosine"]}))


def judge_pairs(check_json, min_cos, out_json):
    """Every flagged pair, and every image's nearest neighbour at cosine >= min_cos, judged by pixels."""
    c = json.load(open(check_json))
    seen = {}
    for d in c["duplicates"]:
        k = frozenset((d["first"]["file"], d["second"]["file"]))
        seen[k] = (d["similarity"], d["kind"], d["scope"], True)
    for p in c["per_image"]:
        if p["nearest"] and p["nearest_similarity"] is not None and p["nearest_similarity"] >= min_cos:
            k = frozenset((p["file"], p["nearest"]))
            seen.setdefault(k, (p["nearest_similarity"], "nearest", "", False))
    out = []
    for k, (s, kind, scope, flagged) in seen.items():
        a, b = sorted(k)
        out.append({"a": a, "b": b, "cosine": s, "kind": kind, "scope": scope, "flagged": flagged, "pixels": round(same_photo(a, b), 3)})
    out.sort(key=lambda r: -(r["cosine"] if r["cosine"] is not None else 2))
    json.dump(out, open(out_json, "w"), indent=1)


def score_pairs(judged_json, same):
    """Flagged pairs the pixels call different photos (false pairs), and same-photo pairs left unflagged."""
    j = json.load(open(judged_json))
    flagged = [r for r in j if r["flagged"]]
    false = [r for r in flagged if r["pixels"] < same]
    missed = [r for r in j if not r["flagged"] and r["pixels"] >= same]
    print(json.dumps({"flagged": len(flagged), "exact": sum(r["kind"] != "near" for r in flagged),
                      "false_pairs": len(false), "false": [(round(r["cosine"], 3), r["pixels"], os.path.basename(r["a"]), os.path.basename(r["b"])) for r in false],
                      "same_photo_unflagged": len(missed),
                      "unflagged": [(round(r["cosine"], 3), r["pixels"], os.path.basename(r["a"]), os.path.basename(r["b"])) for r in missed][:12]}))


def score_outliers(check_json, truth_json):
    c = json.load(open(check_json))
    truth = json.load(open(truth_json))
    flagged = {o["file"]: o for o in c["outliers"]}
    typ = {p["file"]: (p["typicality"], p["pixel_spread"]) for p in c["per_image"]}
    print(json.dumps({"placeholders": len(truth), "flagged": sum(t in flagged for t in truth),
                      "each": {os.path.basename(t): {"flagged": t in flagged, "blank": flagged.get(t, {}).get("blank"),
                                                     "typicality": typ[t][0], "spread": typ[t][1]} for t in truth},
                      "other_outliers": len(flagged) - sum(t in flagged for t in truth),
                      "fence": c["thresholds"]["outlier_typicality_fence"]}))


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "noisy":
        noisy(args[0], float(args[1]), int(args[2]), args[3], args[4])
    elif cmd == "duplicates":
        duplicates(args[0], int(args[1]), int(args[2]), args[3], args[4], args[5])
    elif cmd == "placeholders":
        placeholders(args[0], args[1], args[2], args[3], args[4])
    elif cmd == "score-labels":
        score_labels(args[0], args[1])
    elif cmd == "score-duplicates":
        score_duplicates(args[0], args[1])
    elif cmd == "judge-pairs":
        judge_pairs(args[0], float(args[1]), args[2])
    elif cmd == "score-pairs":
        score_pairs(args[0], float(args[1]))
    elif cmd == "score-outliers":
        score_outliers(args[0], args[1])
    elif cmd == "same-photo":
        print("%.3f" % same_photo(args[0], args[1]))
    else:
        sys.exit("unknown command " + cmd)
