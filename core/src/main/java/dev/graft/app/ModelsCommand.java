package dev.graft.app;

import dev.graft.model.Architecture;
import dev.graft.model.Architectures;
import dev.graft.model.ModelCard;
import dev.graft.util.Json;
import dev.graft.weights.Downloader;
import dev.graft.weights.WeightsFetch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** What --model accepts, with the facts that help pick one. */
@Command(name = "models", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"List the architectures --model accepts: parameters, GFLOPs per image, input size, ImageNet top-1 of the "
                + "published weights, where the weights come from, their licence, and whether they are in the local cache.",
            "Picking one: ImageNet accuracy predicts transfer accuracy well; on a CPU, time per image grows with GFLOPs."})
final class ModelsCommand implements Callable<Integer> {
    @Option(names = "--json", description = "one JSON object per model")
    boolean json;

    @Override
    public Integer call() {
        Path cache = Downloader.defaultCache();
        List<String[]> rows = new ArrayList<>();
        for (Architecture a : Architectures.all()) {
            ModelCard c = a.card();
            boolean cached = WeightsFetch.cached(a.weights(), cache);
            String url = a.weights().url() == null || a.weights().url().isEmpty() ? "" : a.weights().url();
            if (json) {
                var n = Json.object().put("model", a.name()).put("url", url).put("cached", cached)
                        .put("input", a.weights().preprocessing().crop()).put("preprocessing", a.weights().preprocessing().describe());
                if (c != null) {
                    n.put("parameters", c.parameters()).put("gflops", c.gflops()).put("imagenet_top1", c.imagenetTop1()).put("license", c.license());
                }
                System.out.println(Json.compact(n));
                continue;
            }
            rows.add(new String[] {a.name(), c == null ? "-" : String.format(Locale.ROOT, "%.1fM", c.parameters() / 1e6),
                c == null ? "-" : String.format(Locale.ROOT, "%.2f", c.gflops()), Integer.toString(a.weights().preprocessing().crop()),
                c == null ? "-" : String.format(Locale.ROOT, "%.1f", c.imagenetTop1()), cached ? "yes" : "no",
                url.isEmpty() ? "from --weights" : url});
        }
        if (!json) {
            System.out.println(Table.render(new String[] {"model", "params", "GFLOPS*", "input", "ImageNet top-1 %", "cached", "weights"}, rows));
            System.out.println("* billions of multiply-adds per image, as torchvision's documentation counts its GFLOPS");
            System.out.println("Licences: torchvision models BSD-3-Clause code, weights trained on ImageNet-1k (non-commercial terms); "
                    + "Keras MobileNet v1 Apache-2.0. Cache: " + cache);
        }
        return 0;
    }
}
