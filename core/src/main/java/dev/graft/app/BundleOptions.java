package dev.graft.app;

import dev.graft.api.Classifier;
import dev.graft.data.ImageDecoder;
import dev.graft.data.OnBadImage;
import dev.graft.model.InferenceEngine;
import dev.graft.model.OnnxRuntimeEngine;
import dev.graft.model.nn.Precision;
import dev.graft.model.nn.Torch;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** The options of the commands that use a trained model bundle (predict, serve). */
final class BundleOptions {
    @Option(names = "--model", required = true, description = "model bundle (the --out folder of graft train)")
    Path model;

    @Option(names = "--threads", converter = Ranges.AtLeastZero.class, defaultValue = "0", description = "engine compute threads (0: the engine's default, one per core)")
    int threads;

    @Option(names = "--max-pixels", converter = Ranges.PositiveLong.class, description = "refuse images whose header declares more pixels (decompression bombs). Default: predict 89478485 (Pillow's), serve 50000000")
    Long maxPixels;

    @Option(names = "--top-k", converter = Ranges.AtLeastOne.class, defaultValue = "5", description = "classes to report per image, most probable first. Default: ${DEFAULT-VALUE}")
    int topK;

    @Option(names = "--on-bad-image", defaultValue = "skip", description = "skip (reported, counted) or fail (stop at the first unreadable image). Default: ${DEFAULT-VALUE}")
    OnBadImage onBadImage;

    @Option(names = "--tta", converter = Ranges.TtaViews.class, defaultValue = "0", description = "test-time augmentation: N flipped and "
            + "cropped views mixed 0.75/0.25 with the plain prediction (fastai: 4; at most 16, each view costs one forward pass). Default: ${DEFAULT-VALUE}")
    int tta;

    @Option(names = "--precision", defaultValue = "auto", description = "auto (bf16 where the CPU has native bfloat16, else fp32), fp32 or bf16. Default: ${DEFAULT-VALUE}")
    Precision precision;

    @Option(names = "--no-tune", description = "keep graft's fixed kernel choices instead of the ones measured fastest on this machine (also GRAFT_TUNE=off)")
    boolean noTune;

    @Option(names = "--engine", defaultValue = "auto", converter = EngineConverter.class, description = "torch (libtorch, graft's network), "
            + "onnxruntime (ONNX Runtime on the model's ONNX export, float32), or auto: torch for a bundle, onnxruntime for a folder "
            + "written by graft export --format onnx. Default: ${DEFAULT-VALUE}")
    InferenceEngine.Kind engine;

    static final class EngineConverter implements picocli.CommandLine.ITypeConverter<InferenceEngine.Kind> {
        @Override
        public InferenceEngine.Kind convert(String value) {
            return InferenceEngine.Kind.parse(value);
        }
    }

    /** Loads the bundle as these options say (--engine included). */
    Classifier load(long defaultMaxPixels) {
        return load(defaultMaxPixels, engine);
    }

    /** Loads the bundle (or an ONNX export) to run on {@code engine}; --threads sizes either engine's pool. */
    Classifier load(long defaultMaxPixels, InferenceEngine.Kind engine) {
        Torch.threads(threads);
        OnnxRuntimeEngine.threads(threads);
        if (noTune) {
            System.setProperty("graft.tune", "off");
        }
        return Classifier.load(model, maxPixels != null ? maxPixels : defaultMaxPixels, precision, engine).withTta(tta);
    }

    static final long TRAINING_MAX_PIXELS = ImageDecoder.DEFAULT_MAX_PIXELS;
}
