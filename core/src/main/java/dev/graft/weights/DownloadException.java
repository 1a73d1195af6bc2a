package dev.graft.weights;

/** A download that failed; the message names the URL and what went wrong. */
public class DownloadException extends RuntimeException {
    private final boolean unreachable;

    public DownloadException(String message, boolean unreachable, Throwable cause) {
        super(message, cause);
        this.unreachable = unreachable;
    }

    /** True when the host could not be reached at all (offline), as opposed to a bad answer. */
    public boolean unreachable() {
        return unreachable;
    }
}
