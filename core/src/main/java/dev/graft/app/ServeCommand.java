package dev.graft.app;

import dev.graft.data.ImageDecoder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

@Command(name = "serve", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Serve a trained model over HTTP: POST /predict, a page at /, GET /health.")
final class ServeCommand implements Callable<Integer> {
    @Mixin
    BundleOptions bundle;

    @Option(names = "--port", converter = Ranges.Port.class, defaultValue = "8080")
    int port;

    @Option(names = "--host", defaultValue = "127.0.0.1", description = "address to bind; 0.0.0.0 exposes the service to the network. Default: ${DEFAULT-VALUE}")
    String host;

    @Option(names = "--max-bytes", converter = Ranges.PositiveLong.class, defaultValue = "20971520", description = "largest accepted upload. Default: ${DEFAULT-VALUE}")
    long maxBytes;

    @Option(names = "--max-concurrent", converter = Ranges.AtLeastOne.class, defaultValue = "2", description = "predictions at once; more wait up to 10 s, then get 503")
    int maxConcurrent;

    @Override
    public Integer call() throws Exception {
        long pixels = bundle.maxPixels != null ? bundle.maxPixels : ImageDecoder.SERVING_MAX_PIXELS;
        Classifier c = bundle.load(pixels);
        Server s = new Server(c, new Server.Limits(maxBytes, maxConcurrent, 10_000, bundle.topK, pixels, 30_000)).start(host, port);
        System.out.println("graft: serving " + bundle.model + " (" + c.labels().size() + " classes) on http://" + host + ":" + s.port()
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
