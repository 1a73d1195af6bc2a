package dev.graft.model.keras;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.graft.util.Json;

/**
 * Layer graphs of Keras Applications models, for weight files that carry no graph (Keras Applications publishes
 * weights saved with save_weights). The graph is written as Keras 2's model_config, layer names included, so the
 * weights map by name and the import path is the same as for a saved model.
 */
public final class KerasApplications {
    private static final ObjectMapper JSON = Json.MAPPER;

    private KerasApplications() {
    }

    /** keras.applications.MobileNet(alpha, input_shape=(size, size, 3), include_top=True, classes=1000). */
    public static ObjectNode mobilenetV1(double alpha, int size) {
        Graph g = new Graph();
        g.input("input_1", size);
        String x = g.convBlock("input_1", (int) (32 * alpha));
        int[][] blocks = {{64, 1}, {128, 2}, {128, 1}, {256, 2}, {256, 1}, {512, 2}, {512, 1}, {512, 1}, {512, 1}, {512, 1},
            {512, 1}, {1024, 2}, {1024, 1}};
        for (int i = 0; i < blocks.length; i++) {
            x = g.depthwiseBlock(x, (int) (blocks[i][0] * alpha), blocks[i][1], i + 1);
        }
        int channels = (int) (1024 * alpha);
        x = g.layer("GlobalAveragePooling2D", "global_average_pooling2d_1", x, JSON.createObjectNode());
        ObjectNode reshape = JSON.createObjectNode();
        reshape.putArray("target_shape").add(1).add(1).add(channels);
        x = g.layer("Reshape", "reshape_1", x, reshape);
        x = g.layer("Dropout", "dropout", x, JSON.createObjectNode().put("rate", 1e-3));
        x = g.layer("Conv2D", "conv_preds", x, conv(1000, 1, 1, true));
        x = g.layer("Activation", "act_softmax", x, JSON.createObjectNode().put("activation", "softmax"));
        ObjectNode out = JSON.createObjectNode();
        out.putArray("target_shape").add(1000);
        x = g.layer("Reshape", "reshape_2", x, out);
        return g.model(x, String.format(java.util.Locale.ROOT, "mobilenet_%.2f_%d", alpha, size));
    }

    static ObjectNode conv(int filters, int kernel, int stride, boolean bias) {
        ObjectNode c = JSON.createObjectNode().put("filters", filters).put("padding", "same").put("use_bias", bias)
                .put("activation", "linear");
        c.putArray("kernel_size").add(kernel).add(kernel);
        c.putArray("strides").add(stride).add(stride);
        return c;
    }

    /** Builds a Keras 2 functional model_config. */
    static final class Graph {
        private final ArrayNode layers = JSON.createArrayNode();

        void input(String name, int size) {
            ObjectNode cfg = JSON.createObjectNode().put("name", name);
            cfg.putArray("batch_input_shape").addNull().add(size).add(size).add(3);
            ObjectNode l = layers.addObject().put("class_name", "InputLayer").put("name", name);
            l.set("config", cfg);
            l.putArray("inbound_nodes");
        }

        String layer(String type, String name, String input, ObjectNode config) {
            config.put("name", name);
            ObjectNode l = layers.addObject().put("class_name", type).put("name", name);
            l.set("config", config);
            ArrayNode node = l.putArray("inbound_nodes").addArray().addArray();
            node.add(input).add(0).add(0).addObject();
            return name;
        }

        String bn(String input, String name) {
            return layer("BatchNormalization", name, input, JSON.createObjectNode().put("axis", -1).put("momentum", 0.99)
                    .put("epsilon", 1e-3).put("center", true).put("scale", true));
        }

        String relu6(String input, String name) {
            return layer("Activation", name, input, JSON.createObjectNode().put("activation", "relu6"));
        }

        String convBlock(String input, int filters) {
            String x = layer("Conv2D", "conv1", input, conv(filters, 3, 2, false));
            return relu6(bn(x, "conv1_bn"), "conv1_relu");
        }

        String depthwiseBlock(String input, int pointwise, int stride, int id) {
            ObjectNode dw = JSON.createObjectNode().put("padding", "same").put("use_bias", false).put("depth_multiplier", 1)
                    .put("activation", "linear");
            dw.putArray("kernel_size").add(3).add(3);
            dw.putArray("strides").add(stride).add(stride);
            String x = layer("DepthwiseConv2D", "conv_dw_" + id, input, dw);
            x = relu6(bn(x, "conv_dw_" + id + "_bn"), "conv_dw_" + id + "_relu");
            x = layer("Conv2D", "conv_pw_" + id, x, conv(pointwise, 1, 1, false));
            return relu6(bn(x, "conv_pw_" + id + "_bn"), "conv_pw_" + id + "_relu");
        }

        ObjectNode model(String output, String name) {
            ObjectNode m = JSON.createObjectNode().put("class_name", "Model");
            ObjectNode cfg = m.putObject("config").put("name", name);
            cfg.set("layers", layers);
            cfg.putArray("input_layers").addArray().add("input_1").add(0).add(0);
            cfg.putArray("output_layers").addArray().add(output).add(0).add(0);
            return m;
        }
    }
}
