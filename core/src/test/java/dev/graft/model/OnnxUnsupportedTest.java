package dev.graft.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.graft.data.Preprocessing;
import dev.graft.model.nn.Layers;
import dev.graft.model.nn.Module;
import dev.graft.model.nn.Sequential;
import dev.graft.model.nn.Torch;
import dev.graft.onnx.OnnxGraph;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A network with a layer that has no ONNX form: the export stops with one line naming the layer and why. */
class OnnxUnsupportedTest {
    /** A layer graft can run but not export. */
    static final class Squash extends Module {
        @Override
        public NDArray apply(NDArray x, boolean training) {
            return x.tanh();
        }
    }

    @Test
    void aLayerWithoutAnOnnxFormIsNamedInOneLine() {
        try (NDManager m = Torch.newManager()) {
            Layers l = new Layers(m);
            Sequential body = new Sequential();
            body.add(l.conv(3, 4, 3, 1, 1, 1, true));
            body.add(new Squash());
            body.add("pool", new Flat());
            Network net = new Network("custom", Body.of(body, 4 * 8 * 8, 0f), "fc", 2, l);
            OnnxGraph.Unsupported e = assertThrows(OnnxGraph.Unsupported.class, () -> Torch.noGrad(() ->
                    OnnxExport.export(net, Preprocessing.imagenet().withCrop(8), List.of("a", "b"), "custom", "test")));
            assertEquals("layer '1' (Squash) cannot be exported to ONNX: graft has no ONNX form for Squash layers", e.getMessage());
            assertFalse(e.getMessage().contains("\n"));
            // the failed export leaves the network as it was: no inference weights held
            assertTrue(Torch.noGrad(() -> net.apply(m.ones(new ai.djl.ndarray.types.Shape(1, 3, 8, 8)), false)).getShape().get(1) == 2);
        }
    }

    static final class Flat extends Module {
        @Override
        public NDArray apply(NDArray x, boolean training) {
            return x.reshape(x.getShape().get(0), -1);
        }

        @Override
        protected OnnxGraph.Value exportOnnx(OnnxGraph g, OnnxGraph.Value x) {
            return g.flatten(x);
        }
    }
}
