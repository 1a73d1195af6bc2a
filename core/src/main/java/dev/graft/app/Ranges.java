package dev.graft.app;

import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * Parse-time ranges of numeric options: a value out of range is refused before anything runs, with picocli's
 * "Invalid value for option '--x': ..." and what the range is.
 */
final class Ranges {
    private Ranges() {
    }

    static int integer(String s) {
        try {
            return Integer.parseInt(s.trim());
        } catch (NumberFormatException e) {
            throw new TypeConversionException("'" + s + "' is not a whole number");
        }
    }

    static long whole(String s) {
        try {
            return Long.parseLong(s.trim());
        } catch (NumberFormatException e) {
            throw new TypeConversionException("'" + s + "' is not a whole number");
        }
    }

    static double number(String s) {
        double v;
        try {
            v = Double.parseDouble(s.trim());
        } catch (NumberFormatException e) {
            throw new TypeConversionException("'" + s + "' is not a number");
        }
        if (!Double.isFinite(v)) {
            throw new TypeConversionException("'" + s + "' is not a finite number");
        }
        return v;
    }

    /** 1 or more (counts: epochs, batch size, top-k, iterations). */
    static final class AtLeastOne implements ITypeConverter<Integer> {
        @Override
        public Integer convert(String s) {
            int v = integer(s);
            if (v < 1) {
                throw new TypeConversionException("must be at least 1, not " + v);
            }
            return v;
        }
    }

    /** 0 or more (0 usually meaning "none" or "automatic"). */
    static final class AtLeastZero implements ITypeConverter<Integer> {
        @Override
        public Integer convert(String s) {
            int v = integer(s);
            if (v < 0) {
                throw new TypeConversionException("must be 0 or more, not " + v);
            }
            return v;
        }
    }

    /** Test-time augmentation views: 0 (off) to 16; each view is one more forward pass per image. */
    static final class TtaViews implements ITypeConverter<Integer> {
        static final int MAX = 16;

        @Override
        public Integer convert(String s) {
            int v = integer(s);
            if (v < 0 || v > MAX) {
                throw new TypeConversionException("must be between 0 and " + MAX + " views (each is one more forward pass per image), not " + v);
            }
            return v;
        }
    }

    /** An input image size: 16 to 4096 pixels. */
    static final class ImageSize implements ITypeConverter<Integer> {
        @Override
        public Integer convert(String s) {
            int v = integer(s);
            if (v < dev.graft.train.RunConfig.MIN_IMAGE_SIZE || v > dev.graft.train.RunConfig.MAX_IMAGE_SIZE) {
                throw new TypeConversionException("must be between " + dev.graft.train.RunConfig.MIN_IMAGE_SIZE + " and "
                        + dev.graft.train.RunConfig.MAX_IMAGE_SIZE + " pixels, not " + v);
            }
            return v;
        }
    }

    /** A TCP port; 0 picks a free one. */
    static final class Port implements ITypeConverter<Integer> {
        @Override
        public Integer convert(String s) {
            int v = integer(s);
            if (v < 0 || v > 65535) {
                throw new TypeConversionException("must be a port between 0 and 65535, not " + v);
            }
            return v;
        }
    }

    /** 1 or more, as a long (bytes, pixels). */
    static final class PositiveLong implements ITypeConverter<Long> {
        @Override
        public Long convert(String s) {
            long v = whole(s);
            if (v < 1) {
                throw new TypeConversionException("must be at least 1, not " + v);
            }
            return v;
        }
    }

    /** Greater than 0 (learning rates, multipliers). */
    static final class Positive implements ITypeConverter<Double> {
        @Override
        public Double convert(String s) {
            double v = number(s);
            if (v <= 0) {
                throw new TypeConversionException("must be greater than 0, not " + s);
            }
            return v;
        }
    }

    /** 0 or more (weight decay, regularisation strengths). */
    static final class NonNegative implements ITypeConverter<Double> {
        @Override
        public Double convert(String s) {
            double v = number(s);
            if (v < 0) {
                throw new TypeConversionException("must be 0 or more, not " + s);
            }
            return v;
        }
    }

    /** In [0, 1) (momentum, a held-out fraction). */
    static final class Fraction implements ITypeConverter<Double> {
        @Override
        public Double convert(String s) {
            double v = number(s);
            if (v < 0 || v >= 1) {
                throw new TypeConversionException("must be at least 0 and below 1, not " + s);
            }
            return v;
        }
    }

    /** In (0, 1] (a crop's smallest area share). */
    static final class Share implements ITypeConverter<Double> {
        @Override
        public Double convert(String s) {
            double v = number(s);
            if (v <= 0 || v > 1) {
                throw new TypeConversionException("must be above 0 and at most 1, not " + s);
            }
            return v;
        }
    }
}
