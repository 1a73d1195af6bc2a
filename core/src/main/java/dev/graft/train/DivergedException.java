package dev.graft.train;

/** Training diverged (a loss or a parameter stopped being a number); the last good checkpoint, if any, is kept. */
public final class DivergedException extends RuntimeException {
    public DivergedException(String message) {
        super(message);
    }
}
