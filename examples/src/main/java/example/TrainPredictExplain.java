package example;

import dev.graft.api.Classifier;
import dev.graft.api.Graft;
import dev.graft.api.TrainedModel;
import dev.graft.train.Recipe;
import dev.graft.train.RunConfig;

import javax.imageio.ImageIO;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/** graft as a library: fine-tune on a folder, predict one image, explain it (Grad-CAM). Args: DATA WEIGHTS OUT. */
public class TrainPredictExplain {
    public static void main(String[] args) throws Exception {
        Path data = Path.of(args[0]), out = Path.of(args[2]);
        RunConfig cfg = Graft.config(data, "mobilenet_v1_0.75", Recipe.Quality.FAST)
                .weights(Path.of(args[1])).perClass(20).testPerClass(10).build();
        TrainedModel model = Graft.train(cfg, out);
        System.out.printf("test accuracy %.3f on %s (%s)%n", model.testAccuracy(), model.classes(), model.kept());

        Path photo;
        try (Stream<Path> files = Files.walk(data.resolve("test"))) {
            photo = files.filter(f -> f.toString().endsWith(".jpg")).sorted().findFirst().orElseThrow();
        }
        try (Classifier c = Classifier.load(model.folder())) {
            Classifier.Prediction top = c.predict(photo, 1).get(0);
            System.out.printf("%s: %s (%.3f)%n", photo.getFileName(), top.label(), top.probability());
            ImageIO.write(c.explain(c.decode(photo), top.index()), "png", out.resolve("explained.png").toFile());
        }
        System.out.println("heat map written to " + out.resolve("explained.png"));
    }
}
