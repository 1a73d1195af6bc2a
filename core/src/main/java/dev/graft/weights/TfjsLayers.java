package dev.graft.weights;

import dev.graft.util.Json;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A Keras model saved in the TensorFlow.js layers format: {@code model.json} holds the Keras topology and a
 * {@code weightsManifest} of groups, each a list of binary shard files whose concatenation is the group's weights
 * in order (little-endian). Tensors keep Keras names and layouts (HWIO kernels); converting them is the model's job.
 */
public final class TfjsLayers {

    /** The parsed model: Keras {@code model_config}, raw weights, and source labels if a metadata.json says them. */
    public record Model(Path modelJson, JsonNode modelConfig, StateDict weights, List<String> labels) {
    }

    private TfjsLayers() {
    }

    /** Reads {@code model.json} (or a folder containing it) and its shards. */
    public static Model read(Path path) {
        Path modelJson = Files.isDirectory(path) ? path.resolve("model.json") : path;
        String name = modelJson.toString();
        if (!Files.isRegularFile(modelJson)) {
            throw new WeightsException(name, "does not exist (a TF.js layers model needs model.json beside its shards)");
        }
        JsonNode root;
        try {
            root = Json.MAPPER.readTree(modelJson.toFile());
        } catch (JsonProcessingException e) {
            throw new WeightsException(name, "is not valid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new WeightsException(name, "cannot be read: " + e.getMessage());
        }
        JsonNode topology = root.path("modelTopology");
        JsonNode config = topology.has("model_config") ? topology.get("model_config") : topology;
        if (!config.has("class_name") || !config.has("config")) {
            throw new WeightsException(name, "has no Keras model topology (modelTopology.model_config); "
                    + "is it a TF.js graph model? graft reads the layers format");
        }
        JsonNode manifest = root.path("weightsManifest");
        if (!manifest.isArray()) {
            throw new WeightsException(name, "has no weightsManifest");
        }
        Path dir = modelJson.toAbsolutePath().normalize().getParent();
        StateDict sd = new StateDict(name);
        int g = 0;
        for (JsonNode group : manifest) {
            g++;
            ByteBuffer data = readGroup(group, dir, name, g);
            long offset = 0;
            for (JsonNode w : group.path("weights")) {
                String wname = w.path("name").asText();
                long[] shape = new long[w.path("shape").size()];
                for (int i = 0; i < shape.length; i++) {
                    shape[i] = w.path("shape").get(i).asLong(-1);
                    if (shape[i] < 0) {
                        throw new WeightsException(name, "weight '" + wname + "' has an invalid shape " + w.path("shape"));
                    }
                }
                long numel = TensorData.numel(shape);
                JsonNode q = w.path("quantization");
                String dtype = q.isObject() ? q.path("dtype").asText() : w.path("dtype").asText("float32");
                int eb = switch (dtype) {
                    case "float32", "int32" -> 4;
                    case "uint16", "float16" -> 2;
                    case "uint8" -> 1;
                    default -> throw new WeightsException(name, "weight '" + wname + "' has unsupported dtype " + dtype);
                };
                long bytes = numel * eb;
                if (offset + bytes > data.capacity()) {
                    throw new WeightsException(name, "group " + g + " shards hold " + data.capacity() + " bytes but its weights need at least "
                            + (offset + bytes) + " (up to '" + wname + "')");
                }
                ByteBuffer slice = data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
                slice.position((int) offset).limit((int) (offset + bytes));
                slice = slice.slice().order(ByteOrder.LITTLE_ENDIAN);
                offset += bytes;
                sd.put(normalize(wname), decode(slice, dtype, q, shape, w.path("dtype").asText("float32")));
            }
            if (offset != data.capacity()) {
                throw new WeightsException(name, "group " + g + " shards hold " + data.capacity() + " bytes but its weights need " + offset);
            }
        }
        List<String> labels = readLabels(dir);
        return new Model(modelJson, config, sd, labels);
    }

    private static ByteBuffer readGroup(JsonNode group, Path dir, String name, int g) {
        List<byte[]> parts = new ArrayList<>();
        long total = 0;
        for (JsonNode p : group.path("paths")) {
            String rel = p.asText();
            if (rel.isEmpty() || rel.startsWith("/") || rel.contains("..") || rel.contains("\\") || rel.contains(":")) {
                throw new WeightsException(name, "group " + g + " names shard '" + rel + "', which is not a plain file beside model.json");
            }
            Path shard = dir.resolve(rel).normalize();
            if (!shard.startsWith(dir)) {
                throw new WeightsException(name, "group " + g + " shard '" + rel + "' lies outside " + dir);
            }
            if (!Files.isRegularFile(shard)) {
                throw new WeightsException(name, "shard " + shard + " (group " + g + ") is missing");
            }
            try {
                long size = Files.size(shard);
                if (total + size > Integer.MAX_VALUE - 16) {
                    throw new WeightsException(name, "group " + g + " is larger than 2 GB");
                }
                byte[] b = Files.readAllBytes(shard);
                parts.add(b);
                total += b.length;
            } catch (IOException e) {
                throw new WeightsException(name, "shard " + shard + " cannot be read: " + e.getMessage());
            }
        }
        ByteBuffer all = ByteBuffer.allocate((int) total).order(ByteOrder.LITTLE_ENDIAN);
        parts.forEach(all::put);
        all.flip();
        return all;
    }

    private static TensorData decode(ByteBuffer raw, String dtype, JsonNode q, long[] shape, String originalDtype) {
        if (!q.isObject()) {
            return new TensorData(dtype.equals("int32") ? DType.I32 : DType.F32, shape, raw);
        }
        int n = Math.toIntExact(TensorData.numel(shape));
        float[] out = new float[n];
        switch (dtype) {
            case "float16" -> {
                for (int i = 0; i < n; i++) {
                    out[i] = DType.halfToFloat(raw.getShort(i * 2));
                }
            }
            case "uint8", "uint16" -> {
                double scale = q.path("scale").asDouble();
                double min = q.path("min").asDouble();
                for (int i = 0; i < n; i++) {
                    int v = dtype.equals("uint8") ? raw.get(i) & 0xff : raw.getShort(i * 2) & 0xffff;
                    out[i] = (float) (v * scale + min);
                }
            }
            default -> throw new IllegalArgumentException("quantization dtype " + dtype);
        }
        return TensorData.ofFloats(out, shape);
    }

    /** Keras appends ":0" to variable names in some exports. */
    static String normalize(String name) {
        return name.endsWith(":0") ? name.substring(0, name.length() - 2) : name;
    }

    private static List<String> readLabels(Path dir) {
        Path meta = dir.resolve("metadata.json");
        if (!Files.isRegularFile(meta)) {
            return List.of();
        }
        try {
            JsonNode labels = Json.MAPPER.readTree(meta.toFile()).path("labels");
            List<String> out = new ArrayList<>();
            labels.forEach(l -> out.add(l.asText()));
            return out;
        } catch (IOException e) {
            return List.of();
        }
    }
}
