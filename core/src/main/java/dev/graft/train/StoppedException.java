package dev.graft.train;

/** Thrown when a run stops on request (Ctrl-C); the checkpoint holds its state. Also where engine failures get their message. */
public final class StoppedException extends RuntimeException {
    public StoppedException(String message) {
        super(message);
    }

    /** An engine failure as a user can act on it: running out of memory names the batch size. */
    static RuntimeException explainEngineFailure(RuntimeException e) {
        String msg = String.valueOf(e.getMessage()).toLowerCase(java.util.Locale.ROOT);
        if (msg.contains("out of memory") || msg.contains("can't allocate") || msg.contains("cannot allocate")) {
            return new IllegalStateException("the engine ran out of memory; lower --batch-size (e.g. half of it) or the image size", e);
        }
        return e;
    }
}
