package dev.graft.weights;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/** Small, valid weight files built byte by byte, as seeds for error tests and fuzzing. */
public final class TinyFiles {
    private TinyFiles() {
    }

    /** A protocol-2 pickle of OrderedDict{"conv.weight": tensor(2x2 float32 from storage "0")}, as torch writes it. */
    public static byte[] statePickle() {
        ByteArrayOutputStream p = new ByteArrayOutputStream();
        p.writeBytes(new byte[] {(byte) 0x80, 2});
        global(p, "collections", "OrderedDict");
        p.write(')');
        p.write('R');
        p.write('(');
        unicode(p, "conv.weight");
        global(p, "torch._utils", "_rebuild_tensor_v2");
        p.write('(');
        p.write('(');
        unicode(p, "storage");
        global(p, "torch", "FloatStorage");
        unicode(p, "0");
        unicode(p, "cpu");
        p.writeBytes(new byte[] {'K', 4});
        p.write('t');
        p.write('Q');
        p.writeBytes(new byte[] {'K', 0});
        p.writeBytes(new byte[] {'K', 2, 'K', 2, (byte) 0x86});
        p.writeBytes(new byte[] {'K', 2, 'K', 1, (byte) 0x86});
        p.write(0x89);
        global(p, "collections", "OrderedDict");
        p.write(')');
        p.write('R');
        p.write('t');
        p.write('R');
        p.write('u');
        p.write('.');
        return p.toByteArray();
    }

    private static void global(ByteArrayOutputStream p, String module, String name) {
        p.write('c');
        p.writeBytes((module + "\n" + name + "\n").getBytes(StandardCharsets.US_ASCII));
    }

    private static void unicode(ByteArrayOutputStream p, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        p.write('X');
        p.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(b.length).array());
        p.writeBytes(b);
    }

    /** A torch zip (.pth) around a pickle, with storage "0" holding 1, 2, 3, 4. */
    public static byte[] pth(byte[] pickle) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (ZipOutputStream z = new ZipOutputStream(out)) {
            z.putNextEntry(new ZipEntry("archive/data.pkl"));
            z.write(pickle);
            z.putNextEntry(new ZipEntry("archive/data/0"));
            z.write(ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putFloat(1).putFloat(2).putFloat(3).putFloat(4).array());
            z.putNextEntry(new ZipEntry("archive/version"));
            z.write("3\n".getBytes(StandardCharsets.US_ASCII));
        }
        return out.toByteArray();
    }

    /** A tiny Keras model in TF.js layers format: Conv2D(2, 3x3) -> GlobalAveragePooling2D -> Dense(3). */
    public static void tfjs(Path dir) throws IOException {
        Files.createDirectories(dir);
        String json = """
                {"modelTopology": {"keras_version": "2.1.4", "model_config": {"class_name": "Model", "config": {
                  "layers": [
                    {"class_name": "InputLayer", "name": "input_1", "inbound_nodes": [], "config": {"batch_input_shape": [null, 8, 8, 3], "name": "input_1"}},
                    {"class_name": "Conv2D", "name": "conv", "inbound_nodes": [[["input_1", 0, 0, {}]]], "config": {"name": "conv", "filters": 2, "kernel_size": [3, 3], "strides": [2, 2], "padding": "same", "use_bias": true, "activation": "relu"}},
                    {"class_name": "GlobalAveragePooling2D", "name": "gap", "inbound_nodes": [[["conv", 0, 0, {}]]], "config": {"name": "gap"}},
                    {"class_name": "Dense", "name": "preds", "inbound_nodes": [[["gap", 0, 0, {}]]], "config": {"name": "preds", "units": 3, "activation": "softmax", "use_bias": true}}
                  ],
                  "input_layers": [["input_1", 0, 0]], "output_layers": [["preds", 0, 0]]}}},
                 "weightsManifest": [{"paths": ["group1-shard1of1"], "weights": [
                    {"name": "conv/kernel", "shape": [3, 3, 3, 2], "dtype": "float32"},
                    {"name": "conv/bias", "shape": [2], "dtype": "float32"},
                    {"name": "preds/kernel", "shape": [2, 3], "dtype": "float32"},
                    {"name": "preds/bias", "shape": [3], "dtype": "float32"}]}]}
                """;
        Files.writeString(dir.resolve("model.json"), json);
        ByteBuffer b = ByteBuffer.allocate((54 + 2 + 6 + 3) * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < 65; i++) {
            b.putFloat((float) Math.sin(i));
        }
        Files.write(dir.resolve("group1-shard1of1"), b.array());
    }
}
