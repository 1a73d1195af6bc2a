package dev.graft.app;

import dev.graft.data.ImageDecoder;
import dev.graft.model.Torch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

@Command(name = "serve", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Serve a trained model over HTTP: POST /predict, a page at /, GET /health.")
final class ServeCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "model bundle (the --out folder of graft train)")
    Path model;

    @Option(names = "--port", defaultValue = "8080")
    int port;

    @Option(names = "--host", defaultValue = "127.0.0.1", description = "address to bind; 0.0.0.0 exposes the service to the network. Default: ${DEFAULT-VALUE}")
    String host;

    @Option(names = "--max-bytes", defaultValue = "20971520", description = "largest accepted upload. Default: ${DEFAULT-VALUE}")
    long maxBytes;

    @Option(names = "--max-pixels", defaultValue = "" + ImageDecoder.DEFAULT_MAX_PIXELS, description = "largest accepted image (width x height, read from the header before decoding)")
    long maxPixels;

    @Option(names = "--max-concurrent", defaultValue = "2", description = "predictions at once; more wait up to 10 s, then get 503")
    int maxConcurrent;

    @Option(names = "--top-k", defaultValue = "5")
    int topK;

    @Option(names = "--threads", defaultValue = "0")
    int threads;

    @Override
    public Integer call() throws Exception {
        Torch.threads(threads);
        Classifier c = Classifier.load(model, maxPixels);
        Server s = new Server(c, new Server.Limits(maxBytes, maxConcurrent, 10_000, topK)).start(host, port);
        System.out.println("graft: serving " + model + " (" + c.labels().size() + " classes) on http://" + host + ":" + s.port()
                + "/  (POST /predict, GET /health; Ctrl-C to stop)");
        CountDownLatch done = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            s.close();
            c.close();
            done.countDown();
        }));
        done.await();
        return 0;
    }
}
