package dev.graft.model;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.graft.data.Preprocessing;
import dev.graft.model.nn.Precision;
import dev.graft.onnx.OnnxGraph;
import dev.graft.util.Json;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A trained network as one ONNX model (opset 17, float32, BatchNorm folded into the convolutions, a dynamic batch
 * dimension). The graph takes pixels and normalises them itself, so a caller needs only resize and crop:
 *
 * <ul>
 *   <li>input {@code pixels}: float32 [N, 3, crop, crop], RGB, values in [0, 1] (byte / 255), after the
 *       bundle's resize and centre crop;</li>
 *   <li>outputs {@code logits} and {@code probabilities} (softmax), float32 [N, classes], classes in
 *       {@code labels} order.</li>
 * </ul>
 * The labels and preprocessing travel in the model's metadata_props ({@link #metadata}). Every layer emits its own
 * nodes ({@code Module.exportOnnx}); a layer without an ONNX form stops the export with one line naming it.
 */
public final class OnnxExport {
    /** The format tag in metadata_props (key {@code graft.format}). */
    public static final String FORMAT = "graft-onnx-1";
    public static final String INPUT = "pixels";
    public static final String LOGITS = "logits";
    public static final String PROBABILITIES = "probabilities";
    /** What a caller feeds, as written into the model. */
    public static final String INPUT_DOC = "float32 [N, 3, H, W], RGB, values in [0, 1] (byte / 255), after the resize and center crop "
            + "given in this metadata; the graph subtracts mean and divides by std itself";

    private OnnxExport() {
    }

    /** An exported model: the graph, ready to write, and what it says about itself. */
    public record Model(OnnxGraph graph, OnnxGraph.ModelInfo info) {
        public byte[] toBytes() {
            return graph.toBytes(info);
        }

        public void write(Path file) throws IOException {
            try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(file), 1 << 20)) {
                graph.write(out, info);
            }
        }
    }

    /**
     * Exports {@code net} (no {@link Predictor} may hold it open meanwhile: its inference weights are prepared in
     * float32 for the export and released after).
     *
     * @throws OnnxGraph.Unsupported naming the first layer that has no ONNX form
     */
    public static Model export(Network net, Preprocessing pre, List<String> labels, String model, String version) {
        if (labels.size() != net.numClasses()) {
            throw new IllegalArgumentException(labels.size() + " labels for " + net.numClasses() + " outputs");
        }
        Precision before = net.compute().precision();
        net.compute().setPrecision(Precision.FP32);
        net.compute().prepareInference();
        try {
            OnnxGraph g = new OnnxGraph(net.layerNames());
            int s = pre.crop();
            OnnxGraph.Value pixels = g.input(INPUT, -1, 3, s, s);
            OnnxGraph.Value x = g.in("normalize", () -> g.div(g.sub(pixels, g.weight("mean", pre.mean(), 1, 3, 1, 1)),
                    g.weight("std", pre.std(), 1, 3, 1, 1)));
            OnnxGraph.Value logits = net.onnx(g, x);
            g.output(logits, LOGITS);
            g.output(g.in("head_softmax", () -> g.softmax(logits, 1)), PROBABILITIES);
            String doc = "graft " + version + ": " + model + " fine-tuned on " + labels.size() + " classes. Input '" + INPUT + "': "
                    + INPUT_DOC + ". Outputs '" + LOGITS + "' and '" + PROBABILITIES + "': float32 [N, " + labels.size() + "].";
            return new Model(g, new OnnxGraph.ModelInfo(model, version, doc, metadata(model, version, labels, pre)));
        } finally {
            net.compute().releaseInference();
            net.compute().setPrecision(before);
        }
    }

    /** The model's metadata_props: labels and preprocessing, as JSON for programs and as plain values for people. */
    public static Map<String, String> metadata(String model, String version, List<String> labels, Preprocessing pre) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("graft.format", FORMAT);
        m.put("graft.version", version);
        m.put("model", model);
        ArrayNode l = Json.MAPPER.createArrayNode();
        labels.forEach(l::add);
        m.put("labels", Json.compact(l));
        m.put("num_classes", Integer.toString(labels.size()));
        m.put("input", INPUT_DOC);
        m.put("input_size", Integer.toString(pre.crop()));
        m.put("resize", Integer.toString(pre.resize()));
        m.put("resize_mode", pre.shortSide() ? "shorter side to resize, aspect kept" : "resize x resize (aspect not kept)");
        m.put("crop", "center " + pre.crop() + "x" + pre.crop());
        m.put("interpolation", pre.interpolation().name().toLowerCase(Locale.ROOT));
        m.put("mean", Arrays.toString(pre.mean()));
        m.put("std", Arrays.toString(pre.std()));
        m.put("normalization", "inside the graph: (pixels - mean) / std");
        ObjectNode p = Json.object();
        p.put("resize", pre.resize());
        p.put("short_side", pre.shortSide());
        p.put("crop", pre.crop());
        p.put("interpolation", pre.interpolation().name().toLowerCase(Locale.ROOT));
        ArrayNode mean = p.putArray("mean");
        ArrayNode std = p.putArray("std");
        for (int c = 0; c < 3; c++) {
            mean.add(pre.mean()[c]);
            std.add(pre.std()[c]);
        }
        p.put("input_range", "[0, 1]");
        p.put("normalization", "in_graph");
        m.put("preprocessing", Json.compact(p));
        return m;
    }

    /** The preprocessing recorded in an export's metadata (see {@link #metadata}). */
    public static Preprocessing preprocessing(Map<String, String> metadata) throws IOException {
        String json = metadata.get("preprocessing");
        if (json == null) {
            throw new IOException("no 'preprocessing' in its metadata");
        }
        var n = Json.MAPPER.readTree(json);
        float[] mean = new float[3];
        float[] std = new float[3];
        for (int c = 0; c < 3; c++) {
            mean[c] = (float) n.path("mean").path(c).asDouble();
            std[c] = (float) n.path("std").path(c).asDouble();
        }
        return new Preprocessing(n.path("resize").asInt(), n.path("short_side").asBoolean(), n.path("crop").asInt(), mean, std,
                dev.graft.data.Resample.Filter.valueOf(n.path("interpolation").asText("bilinear").toUpperCase(Locale.ROOT)));
    }

    /** The labels recorded in an export's metadata. */
    public static List<String> labels(Map<String, String> metadata) throws IOException {
        String json = metadata.get("labels");
        if (json == null) {
            throw new IOException("no 'labels' in its metadata");
        }
        List<String> out = new java.util.ArrayList<>();
        Json.MAPPER.readTree(json).forEach(v -> out.add(v.asText()));
        return out;
    }
}
