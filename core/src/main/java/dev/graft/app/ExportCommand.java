package dev.graft.app;

import dev.graft.run.OutputFolder;
import ai.djl.ndarray.NDManager;
import dev.graft.data.Preprocessing;
import dev.graft.model.Network;
import dev.graft.model.OnnxExport;
import dev.graft.model.Predictor;
import dev.graft.model.nn.Torch;
import dev.graft.onnx.OnnxGraph;
import dev.graft.train.Bundle;
import dev.graft.train.Version;
import dev.graft.util.Json;
import dev.graft.weights.Npy;
import dev.graft.weights.SafeTensors;
import dev.graft.weights.StateDict;
import dev.graft.weights.TensorData;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;

/**
 * Exports a trained model for use outside graft, with labels.json and a reference input with graft's logits on it
 * so the other side can check it computes the same:
 * <ul>
 *   <li>{@code --format onnx}: model.onnx (opset 17, float32, BatchNorm folded, dynamic batch, normalisation in
 *       the graph; labels and preprocessing in its metadata), for ONNX Runtime and the tools that read ONNX;</li>
 *   <li>{@code --format safetensors}: a state_dict with torchvision's names (so
 *       {@code get_model(name, num_classes=N).load_state_dict(..., strict=True)} accepts it), for PyTorch.</li>
 * </ul>
 * The output folder follows train's rules: new or empty, or an earlier graft export with --overwrite.
 */
@Command(name = "export", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Export a model bundle: ONNX (model.onnx, for ONNX Runtime from any language) or torchvision-named safetensors "
            + "(for PyTorch), with labels.json and a reference input and graft's logits on it.",
            "The ONNX model takes RGB pixels in [0, 1] after the bundle's resize and center crop (NCHW float32) and normalises them "
                + "itself; see docs/ONNX.md."})
final class ExportCommand implements Callable<Integer> {
    /** The marker of a folder graft export wrote. */
    static final String MARKER = "export.json";
    static final String FORMAT = "graft-export-1";

    @Option(names = "--model", required = true, description = "model bundle (the --out folder of graft train)")
    Path model;

    @Option(names = "--format", defaultValue = "safetensors", description = "onnx or safetensors. Default: ${DEFAULT-VALUE}")
    String format;

    @Option(names = "--out", required = true, description = "output folder: new or empty, or an earlier graft export with --overwrite")
    Path out;

    @Option(names = "--overwrite", description = "replace an earlier graft export in --out")
    boolean overwrite;

    @Override
    public Integer call() throws Exception {
        String fmt = format.toLowerCase(Locale.ROOT);
        if (!fmt.equals("safetensors") && !fmt.equals("onnx")) {
            throw new IllegalArgumentException("--format must be onnx or safetensors, not '" + format + "'");
        }
        if (Files.exists(out) && Files.isSameFile(out, model)) {
            throw new IllegalArgumentException("--out " + out + " is the bundle itself; export into another folder");
        }
        try (NDManager m = Torch.newManager()) {
            Bundle.Loaded b = Torch.noGrad(() -> Bundle.load(model, m));
            if (fmt.equals("onnx")) {
                onnx(b);
            } else {
                safetensors(b);
            }
        }
        return 0;
    }

    private void onnx(Bundle.Loaded b) throws IOException {
        Network net = b.net();
        OnnxExport.Model onnx;
        try {
            // the whole graph is built before anything is written: an unexportable model leaves no folder behind
            onnx = Torch.noGrad(() -> OnnxExport.export(net, b.preprocessing(), b.labels(), net.architecture(), Version.VERSION));
        } catch (OnnxGraph.Unsupported e) {
            throw new IllegalArgumentException(model + " (" + net.architecture() + "): " + e.getMessage());
        }
        claimOut();
        Path file = out.resolve("model.onnx");
        Path tmp = out.resolve("model.onnx.tmp");
        onnx.write(tmp);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        Files.deleteIfExists(out.resolve("model.safetensors"));
        Json.write(out.resolve("labels.json"), b.labels());
        Json.write(out.resolve("preprocessing.json"), Json.MAPPER.readTree(onnx.info().metadata().get("preprocessing")));
        // a fixed input of pixels in [0, 1], what the ONNX model takes, and graft's logits on it (libtorch, float32)
        Preprocessing pre = b.preprocessing();
        int size = pre.crop();
        float[] pixels = new float[2 * 3 * size * size];
        Random r = new Random(0);
        for (int i = 0; i < pixels.length; i++) {
            pixels[i] = r.nextFloat();
        }
        float[] logits = logits(net, pre, normalise(pixels, pre));
        Npy.write(TensorData.ofFloats(pixels, 2, 3, size, size), out.resolve("example_input.npy"));
        Npy.write(TensorData.ofFloats(logits, 2, net.numClasses()), out.resolve("example_logits.npy"));
        marker("onnx", net);
        System.out.printf(Locale.ROOT, "exported %s (%d classes, %,d weights, opset %d) to %s%n", net.architecture(), net.numClasses(),
                onnx.graph().parameterCount(), OnnxGraph.OPSET, file);
        System.out.println("input 'pixels': float32 [N, 3, " + size + ", " + size + "], RGB in [0, 1] after " + resizeAndCrop(pre)
                + " (the model normalises); outputs 'logits' and 'probabilities' [N, " + net.numClasses() + "]; see docs/ONNX.md");
    }

    private void safetensors(Bundle.Loaded b) throws IOException {
        Network net = b.net();
        if (!(dev.graft.model.Architectures.get(net.architecture()) instanceof dev.graft.model.TorchvisionModel)) {
            throw new IllegalArgumentException(model + " is a " + net.architecture() + " model imported from Keras; the safetensors export "
                    + "writes torchvision state_dicts, which only torchvision architectures have (graft models lists them); "
                    + "--format onnx exports any model");
        }
        claimOut();
        StateDict sd = torchStateDict(net);
        sd.metadata().put("format", "pt");
        sd.metadata().put("graft_architecture", net.architecture());
        sd.metadata().put("num_classes", Integer.toString(net.numClasses()));
        SafeTensors.write(sd, out.resolve("model.safetensors"));
        Files.deleteIfExists(out.resolve("model.onnx"));
        Json.write(out.resolve("labels.json"), b.labels());
        Json.write(out.resolve("preprocessing.json"), b.manifest().get("preprocessing"));
        // a fixed input and graft's logits on it, for tools/check_export.py
        int size = b.preprocessing().crop();
        float[] x = new float[2 * 3 * size * size];
        Random r = new Random(0);
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextGaussian();
        }
        float[] logits = logits(net, b.preprocessing(), x);
        Npy.write(TensorData.ofFloats(x, 2, 3, size, size), out.resolve("example_input.npy"));
        Npy.write(TensorData.ofFloats(logits, 2, net.numClasses()), out.resolve("example_logits.npy"));
        marker("safetensors", net);
        System.out.println("exported " + net.architecture() + " (" + sd.size() + " tensors, " + net.numClasses() + " classes) to "
                + out + "\nload it with: torchvision.models.get_model(\"" + net.architecture() + "\", num_classes=" + net.numClasses()
                + ").load_state_dict(safetensors.torch.load_file('model.safetensors'), strict=True)");
    }

    private void claimOut() throws IOException {
        if (OutputFolder.claim(out, overwrite, ExportCommand::isGraftExport, "export", "", "")) {
            System.out.println("replacing the earlier export in " + out + " (--overwrite)");
        }
    }

    private void marker(String kind, Network net) throws IOException {
        Json.write(out.resolve(MARKER), Map.of("format", FORMAT, "export", kind, "model", net.architecture(),
                "bundle", model.toAbsolutePath().normalize().toString(), "created", Instant.now().toString()));
    }

    /** A folder graft export wrote: its export.json, or (older exports) model.safetensors with graft's metadata beside labels.json. */
    static boolean isGraftExport(Path dir) {
        try {
            if (Files.isRegularFile(dir.resolve(MARKER))) {
                return FORMAT.equals(Json.read(dir.resolve(MARKER)).path("format").asText());
            }
            Path st = dir.resolve("model.safetensors");
            return Files.isRegularFile(st) && Files.isRegularFile(dir.resolve("labels.json"))
                    && SafeTensors.read(st).metadata().containsKey("graft_architecture");
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    static String resizeAndCrop(Preprocessing p) {
        return (p.shortSide() ? "resizing the shorter side to " + p.resize() : "resizing to " + p.resize() + "x" + p.resize())
                + " (" + p.interpolation().name().toLowerCase(Locale.ROOT) + ") and a center crop of " + p.crop();
    }

    /** (pixels - mean) / std per channel, in float32 as graft's own transform computes it. */
    static float[] normalise(float[] pixels, Preprocessing p) {
        float[] out = new float[pixels.length];
        int plane = p.crop() * p.crop();
        for (int i = 0; i < pixels.length; i++) {
            int c = (i / plane) % 3;
            out[i] = (pixels[i] - p.mean()[c]) / p.std()[c];
        }
        return out;
    }

    private static float[] logits(Network net, Preprocessing pre, float[] x) {
        try (Predictor p = new Predictor(net, pre)) {
            return p.logits(x, x.length / dev.graft.data.Transforms.size(pre));
        }
    }

    /** The network's tensors under their framework names; torch's BatchNorm also carries num_batches_tracked. */
    static StateDict torchStateDict(Network net) {
        StateDict sd = new StateDict("export");
        for (Map.Entry<String, TensorData> e : net.stateDict().tensors().entrySet()) {
            sd.put(e.getKey(), e.getValue());
            String k = e.getKey();
            if (k.endsWith(".running_var")) {
                // torch counts the batches a BatchNorm saw; only used when momentum=None, so 0 is faithful enough
                sd.put(k.substring(0, k.length() - "running_var".length()) + "num_batches_tracked", TensorData.ofLongs(new long[] {0}));
            }
        }
        return sd;
    }
}
