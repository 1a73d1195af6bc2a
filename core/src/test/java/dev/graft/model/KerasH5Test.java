package dev.graft.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import dev.graft.Shared;
import dev.graft.model.keras.KerasApplications;
import dev.graft.model.nn.Torch;
import dev.graft.weights.KerasH5;
import dev.graft.weights.Npy;
import dev.graft.weights.TensorData;
import dev.graft.weights.TfjsLayers;
import dev.graft.weights.WeightsException;
import io.jhdf.HdfFile;
import io.jhdf.WritableHdfFile;
import io.jhdf.api.WritableGroup;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.reflect.Array;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Keras HDF5 weights: a file in Keras's save_weights layout (one group per layer, weight_names attributes, datasets
 * named "kernel:0"), written here with jhdf from the real MobileNet weights, must load through graft's generated
 * Keras Applications graph and reproduce the reference probabilities; so must a whole-model file with model_config.
 */
class KerasH5Test {
    @TempDir
    Path tmp;

    static Object nested(float[] flat, long[] shape) {
        int[] dims = new int[shape.length];
        for (int i = 0; i < dims.length; i++) {
            dims[i] = (int) shape[i];
        }
        Object arr = Array.newInstance(float.class, dims);
        int[] idx = new int[dims.length];
        for (float v : flat) {
            Object row = arr;
            for (int d = 0; d < dims.length - 1; d++) {
                row = Array.get(row, idx[d]);
            }
            ((float[]) row)[idx[dims.length - 1]] = v;
            for (int d = dims.length - 1; d >= 0; d--) {
                if (++idx[d] < dims[d]) {
                    break;
                }
                idx[d] = 0;
            }
        }
        return arr;
    }

    static void writeKerasWeights(WritableGroup root, Map<String, TensorData> weights) {
        Map<String, List<String>> byLayer = new LinkedHashMap<>();
        weights.keySet().forEach(k -> byLayer.computeIfAbsent(k.substring(0, k.lastIndexOf('/')), x -> new ArrayList<>()).add(k));
        root.putAttribute("layer_names", byLayer.keySet().toArray(new String[0]));
        root.putAttribute("backend", "tensorflow");
        root.putAttribute("keras_version", "2.1.4");
        byLayer.forEach((layer, keys) -> {
            WritableGroup g = root.putGroup(layer);
            g.putAttribute("weight_names", keys.stream().map(k -> k + ":0").toArray(String[]::new));
            WritableGroup inner = g.putGroup(layer);
            for (String k : keys) {
                TensorData t = weights.get(k);
                inner.putDataset(k.substring(k.lastIndexOf('/') + 1) + ":0", nested(t.toFloats(), t.shape()));
            }
        });
    }

    static float[] probs(Backbone b) throws Exception {
        TensorData input = Npy.read(Shared.path("fixtures/preprocessing/keras_input.npy"));
        try (NDManager m = Torch.newManager()) {
            Network net = KerasImportTest.sourceNetwork(b, m);
            NDArray x = m.create(FloatBuffer.wrap(input.toFloats()), new Shape(input.shape())).transpose(0, 3, 1, 2);
            return KerasImportTest.probs(net, x);
        }
    }

    @Test
    void weightsOnlyFileLoadsThroughTheGeneratedMobilenetGraph() throws Exception {
        TfjsLayers.Model tfjs = TfjsLayers.read(Shared.path("models/keras-mobilenet_v1_0.75_224"));
        Path h5 = tmp.resolve("mobilenet_7_5_224_tf.h5");
        try (WritableHdfFile f = HdfFile.write(h5)) {
            writeKerasWeights(f, tfjs.weights().tensors());
        }
        KerasH5.Model read = KerasH5.read(h5);
        assertEquals(137, read.weights().size());
        assertEquals(null, read.modelConfig());
        Backbone b = Backbone.load(Architectures.get("mobilenet_v1_0.75"), h5, true, null, null, s -> { });
        float[] want = Npy.read(Shared.path("fixtures/mobilenet/keras_probs.npy")).toFloats();
        float[] got = probs(b);
        assertTrue(KerasImportTest.maxAbs(want, got) <= 1e-4, "max abs prob diff " + KerasImportTest.maxAbs(want, got));
        assertEquals("hotdog", b.labels().get(934));
    }

    @Test
    void generatedGraphMatchesTheExportedOne() {
        TfjsLayers.Model tfjs = TfjsLayers.read(Shared.path("models/keras-mobilenet_v1_0.75_224"));
        JsonNode theirs = tfjs.modelConfig().path("config").path("layers");
        JsonNode ours = KerasApplications.mobilenetV1(0.75, 224).path("config").path("layers");
        assertEquals(theirs.size(), ours.size());
        for (int i = 0; i < ours.size(); i++) {
            assertEquals(theirs.get(i).path("class_name").asText(), ours.get(i).path("class_name").asText(), "layer " + i);
            assertEquals(theirs.get(i).path("name").asText(), ours.get(i).path("name").asText(), "layer " + i);
            for (String k : new String[] {"filters", "padding", "use_bias", "activation", "epsilon"}) {
                assertEquals(theirs.get(i).path("config").path(k).asText(), ours.get(i).path("config").path(k).asText(),
                        ours.get(i).path("name").asText() + " " + k);
            }
            assertEquals(theirs.get(i).path("config").path("strides").toString(), ours.get(i).path("config").path("strides").toString());
        }
    }

    @Test
    void wholeModelFileCarriesItsOwnGraph() throws Exception {
        TfjsLayers.Model tfjs = TfjsLayers.read(Shared.path("models/keras-mobilenet_v1_0.75_224"));
        Path h5 = tmp.resolve("model.h5");
        try (WritableHdfFile f = HdfFile.write(h5)) {
            f.putAttribute("model_config", tfjs.modelConfig().toString());
            writeKerasWeights(f.putGroup("model_weights"), tfjs.weights().tensors());
        }
        KerasH5.Model read = KerasH5.read(h5);
        assertEquals("Model", read.modelConfig().path("class_name").asText());
        Backbone b = Backbone.load(Architectures.get("keras"), h5, true, null, null, s -> { });
        assertEquals("conv_preds", ((KerasModel) b.architecture()).graph().classifier());
    }

    @Test
    void weightsOnlyFileForAnUnknownArchitectureSaysWhatToDo() throws Exception {
        Path h5 = tmp.resolve("w.h5");
        try (WritableHdfFile f = HdfFile.write(h5)) {
            writeKerasWeights(f, Map.of("dense/kernel", TensorData.ofFloats(new float[] {1, 2}, 2, 1)));
        }
        WeightsException e = assertThrows(WeightsException.class, () -> Backbone.load(Architectures.get("keras"), h5, true, null, null, s -> { }));
        assertTrue(e.getMessage().contains("model.save"), e.getMessage());
    }
}
