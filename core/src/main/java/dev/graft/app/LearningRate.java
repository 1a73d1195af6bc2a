package dev.graft.app;

import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** --lr: a rate, or "find" (run the learning-rate sweep first and take its suggestion). */
record LearningRate(double value, boolean find) {

    static final class Converter implements ITypeConverter<LearningRate> {
        @Override
        public LearningRate convert(String s) {
            if (s.trim().equalsIgnoreCase("find")) {
                return new LearningRate(Double.NaN, true);
            }
            return new LearningRate(new Ranges.Positive().convert(s), false);
        }
    }
}
