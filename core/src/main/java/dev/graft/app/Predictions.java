package dev.graft.app;

import dev.graft.api.Classifier;
import dev.graft.data.BadImageException;
import dev.graft.data.ImageDecoder;
import dev.graft.data.RgbImage;
import dev.graft.report.HeatMaps;
import dev.graft.util.Json;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The predictions of one server, bounded: a received upload becomes a job on a pool of {@code maxConcurrent +
 * maxQueued} threads with no queue beyond them (a job that finds no thread is 503 at once); each job waits for one
 * of {@code maxConcurrent} prediction slots at most {@code queueMillis} (then 503) and holds it while it decodes and
 * predicts, not while it draws a heat map (that has its own budget, {@link ExplainBudget}). Large photos are decoded
 * at a reduced scale, the pixel limit read from the header before decoding.
 */
final class Predictions implements AutoCloseable {
    private final Classifier classifier;
    private final Server.Limits limits;
    private final Answers answers;
    private final ImageDecoder decoder;
    private final Semaphore slots;
    private final ThreadPoolExecutor work;

    Predictions(Classifier classifier, Server.Limits limits, Answers answers) {
        this.classifier = classifier;
        this.limits = limits;
        this.answers = answers;
        this.slots = new Semaphore(limits.maxConcurrent(), true);
        int threads = limits.maxConcurrent() + limits.maxQueued();
        AtomicInteger n = new AtomicInteger();
        this.work = new ThreadPoolExecutor(threads, threads, 30, TimeUnit.SECONDS, new SynchronousQueue<>(), r -> {
            Thread t = new Thread(r, "graft-predict-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        this.work.allowCoreThreadTimeOut(true);
        // a photo far larger than the model's input is decoded at a reduced scale: less memory and time per request
        this.decoder = new ImageDecoder(limits.maxPixels(), classifier.preprocessing().resize());
    }

    /** The prediction slots (tests hold them to see the busy answer). */
    Semaphore slots() {
        return slots;
    }

    /** Queues the prediction of a received upload; when every running and waiting place is taken, answers 503. */
    void submit(Upload u, byte[] body) {
        try {
            work.execute(() -> run(u, body));
        } catch (RejectedExecutionException e) {
            u.busy(1, "busy: " + limits.maxConcurrent() + " prediction(s) are running and " + limits.maxQueued()
                    + " are waiting, the most this server queues; try again");
        }
    }

    /** Decode, predict, explain: on a prediction thread, holding a slot for decode and prediction only. */
    private void run(Upload u, byte[] body) {
        try {
            String type = u.request().ctx().contentType();
            String name = "upload";
            byte[] image = body;
            if (type != null && type.toLowerCase(Locale.ROOT).startsWith("multipart/form-data")) {
                MultipartImage p = MultipartImage.of(type, body, limits.maxBytes());
                if (p.error() != null) {
                    u.answer(400, Json.object().put("error", p.error()), Upload.After.KEEP);
                    return;
                }
                name = p.name();
                image = p.bytes();
            }
            if (image.length == 0) {
                u.answer(400, Json.object().put("error", Upload.EMPTY), Upload.After.KEEP);
                return;
            }
            if (!slots.tryAcquire(limits.queueMillis(), TimeUnit.MILLISECONDS)) {
                u.busy(1, "busy: " + limits.maxConcurrent() + " prediction(s) are running and a slot did not come free within "
                        + Answers.seconds(limits.queueMillis()) + "; try again");
                return;
            }
            RgbImage img;
            List<Classifier.Prediction> preds;
            try {
                img = decoder.decode(Path.of("upload"), image);
                image = null;
                body = null;
                u.releaseBytes(); // the decoded, reduced image replaces the upload's bytes
                preds = classifier.predict(List.of(img), u.request().topK()).get(0);
            } finally {
                slots.release();
            }
            var answer = PredictionJson.of(name, preds);
            if (u.request().explain()) {
                if (classifier.explains()) {
                    // its own budget (taken with the request), outside the prediction slots
                    answer.put("heatmap", HeatMaps.dataUri(classifier.explain(img, preds.get(0).index())));
                } else {
                    answer.put("heatmap_error", "this model's architecture has no feature map for Grad-CAM");
                }
            }
            u.answer(200, answer, Upload.After.KEEP);
        } catch (BadImageException e) {
            u.answer(e.reason().contains("over the limit") ? 413 : 400, Json.object().put("error", "not a usable image: " + e.reason()), Upload.After.KEEP);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            u.busy(1, "the server is shutting down");
        } catch (Throwable e) {
            answers.logInternal(u.request().id(), u.request().ctx(), e);
            u.answer(500, Answers.internalJson(u.request().id()), Upload.After.KEEP);
        }
    }

    @Override
    public void close() {
        work.shutdownNow();
    }
}
