package dev.graft.weights;

import dev.graft.util.Json;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.jhdf.HdfFile;
import io.jhdf.api.Attribute;
import io.jhdf.api.Dataset;
import io.jhdf.api.Group;
import io.jhdf.api.Node;
import io.jhdf.exceptions.HdfException;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Keras HDF5 files, read with a pure-Java HDF5 reader (jhdf): weights saved by {@code model.save_weights(...h5)}
 * (as Keras Applications publishes them: one group per layer with a {@code weight_names} attribute) and whole
 * models saved by {@code model.save(...h5)} (a {@code model_config} attribute and a {@code model_weights} group).
 * Tensors get the same "layer/param" names and Keras layouts as the TF.js reader gives.
 */
public final class KerasH5 {

    /** The weights, and the layer graph when the file carries one (null for weights-only files). */
    public record Model(Path file, JsonNode modelConfig, StateDict weights) {
    }

    private KerasH5() {
    }

    public static Model read(Path file) {
        String name = file.toString();
        if (!Files.isRegularFile(file)) {
            throw new WeightsException(name, "does not exist");
        }
        long size;
        try {
            size = Files.size(file);
        } catch (java.io.IOException e) {
            throw new WeightsException(name, "cannot be read: " + e.getMessage());
        }
        try (HdfFile h5 = new HdfFile(file)) {
            JsonNode config = null;
            Attribute mc = h5.getAttribute("model_config");
            if (mc != null) {
                try {
                    JsonNode root = Json.MAPPER.readTree(text(mc.getData()));
                    config = root.has("config") ? root : null;
                } catch (JsonProcessingException e) {
                    throw new WeightsException(name, "has a model_config attribute that is not JSON");
                }
            }
            Group weights = h5.getChild("model_weights") instanceof Group g ? g : h5;
            StateDict sd = new StateDict(name);
            for (String layer : layerNames(weights)) {
                if (!(weights.getChild(layer) instanceof Group g)) {
                    throw new WeightsException(name, "lists layer '" + layer + "' but has no group for it");
                }
                Attribute wn = g.getAttribute("weight_names");
                if (wn == null) {
                    continue;
                }
                for (String w : strings(wn.getData())) {
                    Node node = g.getByPath(w);
                    if (!(node instanceof Dataset ds)) {
                        throw new WeightsException(name, "layer '" + layer + "' names weight '" + w + "' that is not a dataset");
                    }
                    String param = w.substring(w.lastIndexOf('/') + 1);
                    if (param.endsWith(":0")) {
                        param = param.substring(0, param.length() - 2);
                    }
                    sd.put(layer + "/" + param, tensor(ds, name, w, size));
                }
            }
            if (sd.size() == 0) {
                throw new WeightsException(name, "holds no Keras weights (no layer groups with weight_names)");
            }
            return new Model(file, config, sd);
        } catch (WeightsException e) {
            throw e;
        } catch (HdfException | IllegalArgumentException | IllegalStateException | IndexOutOfBoundsException
                 | java.nio.BufferUnderflowException | NegativeArraySizeException | ArithmeticException | ClassCastException
                 | NullPointerException | UnsupportedOperationException e) {
            // jhdf reports damaged structures with several exception types; all mean the same to the user
            throw new WeightsException(name, "is not a readable HDF5 file (" + e + ")");
        } catch (OutOfMemoryError e) {
            // jhdf sizes buffers from header fields without checking them against the file (found by FuzzTest):
            // a damaged header asks for an impossible array, which fails at once and leaves the heap as it was
            throw new WeightsException(name, "is not a readable HDF5 file (a header declares more data than the file holds)");
        }
    }

    private static List<String> layerNames(Group g) {
        Attribute a = g.getAttribute("layer_names");
        if (a != null) {
            return strings(a.getData());
        }
        List<String> out = new ArrayList<>();
        g.getChildren().forEach((k, v) -> {
            if (v instanceof Group) {
                out.add(k);
            }
        });
        return out;
    }

    private static TensorData tensor(Dataset ds, String file, String w, long fileSize) {
        int[] dims = ds.getDimensions();
        long[] shape = new long[dims.length];
        for (int i = 0; i < dims.length; i++) {
            shape[i] = dims[i];
        }
        long bytes = TensorData.numel(shape) * 8;
        if (bytes > Integer.MAX_VALUE || bytes > 64 * fileSize + 4096) {
            throw new WeightsException(file, "weight '" + w + "' declares shape " + java.util.Arrays.toString(shape)
                    + ", more data than the file can hold");
        }
        Object flat = ds.getDataFlat();
        if (flat instanceof float[] f) {
            return TensorData.ofFloats(f, shape);
        }
        if (flat instanceof double[] d) {
            float[] f = new float[d.length];
            for (int i = 0; i < d.length; i++) {
                f[i] = (float) d[i];
            }
            return TensorData.ofFloats(f, shape);
        }
        throw new WeightsException(file, "weight '" + w + "' has element type " + ds.getJavaType().getSimpleName()
                + "; graft reads float32 and float64 weights");
    }

    private static String text(Object data) {
        if (data instanceof String s) {
            return s;
        }
        if (data instanceof String[] a && a.length == 1) {
            return a[0];
        }
        if (data instanceof byte[] b) {
            return new String(b, java.nio.charset.StandardCharsets.UTF_8);
        }
        return String.valueOf(data);
    }

    private static List<String> strings(Object data) {
        List<String> out = new ArrayList<>();
        if (data instanceof String[] a) {
            out.addAll(List.of(a));
        } else if (data instanceof String s) {
            out.add(s);
        } else if (data instanceof Object[] a) {
            for (Object o : a) {
                out.add(text(o));
            }
        }
        return out;
    }
}
