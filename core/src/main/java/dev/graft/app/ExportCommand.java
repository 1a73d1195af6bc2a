package dev.graft.app;

import ai.djl.ndarray.NDManager;
import dev.graft.model.Network;
import dev.graft.model.Predictor;
import dev.graft.model.nn.Torch;
import dev.graft.train.Bundle;
import dev.graft.util.Json;
import dev.graft.weights.Npy;
import dev.graft.weights.SafeTensors;
import dev.graft.weights.StateDict;
import dev.graft.weights.TensorData;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;

/**
 * Exports a trained model for Python: a safetensors state_dict with torchvision's names (so
 * {@code get_model(name, num_classes=N).load_state_dict(..., strict=True)} accepts it), labels.json, and
 * a reference input with graft's logits on it so the other side can check it computes the same.
 */
@Command(name = "export", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Export a model bundle for Python (torchvision-named safetensors + labels.json).")
final class ExportCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "model bundle (the --out folder of graft train)")
    Path model;

    @Option(names = "--format", defaultValue = "safetensors", description = "safetensors. Default: ${DEFAULT-VALUE}")
    String format;

    @Option(names = "--out", required = true, description = "output folder")
    Path out;

    @Override
    public Integer call() throws Exception {
        if (!format.equals("safetensors")) {
            throw new IllegalArgumentException("--format must be safetensors");
        }
        Files.createDirectories(out);
        try (NDManager m = Torch.newManager()) {
            Bundle.Loaded b = Torch.noGrad(() -> Bundle.load(model, m));
            Network net = b.net();
            if (!(dev.graft.model.Architectures.get(net.architecture()) instanceof dev.graft.model.TorchvisionModel)) {
                throw new IllegalArgumentException(model + " is a " + net.architecture() + " model imported from Keras; export "
                        + "writes torchvision state_dicts, which only torchvision architectures have (graft models lists them)");
            }
            StateDict sd = torchStateDict(net);
            sd.metadata().put("format", "pt");
            sd.metadata().put("graft_architecture", net.architecture());
            sd.metadata().put("num_classes", Integer.toString(net.numClasses()));
            SafeTensors.write(sd, out.resolve("model.safetensors"));
            Json.write(out.resolve("labels.json"), b.labels());
            Json.write(out.resolve("preprocessing.json"), b.manifest().get("preprocessing"));
            // a fixed input and graft's logits on it, for tools/check_export.py
            int size = b.preprocessing().crop();
            float[] x = new float[2 * 3 * size * size];
            Random r = new Random(0);
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) r.nextGaussian();
            }
            float[] logits;
            try (Predictor p = new Predictor(net, b.preprocessing())) {
                logits = p.logits(x, 2);
            }
            Npy.write(TensorData.ofFloats(x, 2, 3, size, size), out.resolve("example_input.npy"));
            Npy.write(TensorData.ofFloats(logits, 2, net.numClasses()), out.resolve("example_logits.npy"));
            System.out.println("exported " + net.architecture() + " (" + sd.size() + " tensors, " + net.numClasses() + " classes) to "
                    + out + "\nload it with: torchvision.models.get_model(\"" + net.architecture() + "\", num_classes=" + net.numClasses()
                    + ").load_state_dict(safetensors.torch.load_file('model.safetensors'), strict=True)");
        }
        return 0;
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
