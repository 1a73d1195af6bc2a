package dev.graft.app;

import dev.graft.api.Classifier;
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

    @Option(names = "--max-queued", converter = Ranges.AtLeastZero.class, description = "received uploads that may wait for a prediction; more get 503 "
            + "at once (default: 4 x --max-concurrent)")
    Integer maxQueued;

    @Option(names = "--upload-memory", converter = Ranges.PositiveLong.class, description = "bytes of uploads held at once (being received or "
            + "waiting); an upload that does not fit gets 503 (default: 4 x --max-bytes, at least 64 MB)")
    Long uploadMemory;

    @Option(names = "--request-timeout", converter = Ranges.AtLeastOne.class, defaultValue = "60", description = "seconds an upload may take "
            + "to arrive whole, however slowly it trickles in; then 408. Default: ${DEFAULT-VALUE}")
    int requestTimeout;

    @Option(names = "--no-explain", description = "turn off heat maps (?explain=1 answers 403): each costs a second forward, a backward and a PNG")
    boolean noExplain;

    @Override
    public Integer call() throws Exception {
        long pixels = bundle.maxPixels != null ? bundle.maxPixels : ImageDecoder.SERVING_MAX_PIXELS;
        Classifier c = bundle.load(pixels);
        Server.Limits limits = new Server.Limits(maxBytes, maxConcurrent, 10_000, bundle.topK, pixels, 30_000)
                .withRequestMillis(requestTimeout * 1000L).withExplain(!noExplain, 1)
                .withUploadMemory(uploadMemory != null ? uploadMemory : Server.Limits.defaultUploadMemory(maxBytes))
                .withMaxQueued(maxQueued != null ? maxQueued : 4 * maxConcurrent);
        Server s = new Server(c, limits, System.err::println).start(host, port);
        System.out.println("graft: serving " + bundle.model + " (" + c.labels().size() + " classes) on http://" + host + ":" + s.port()
                + "/  (POST /predict, GET /health; Ctrl-C to stop); engine: " + c.engine());
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
