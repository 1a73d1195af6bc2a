package dev.graft.model;

/**
 * What {@code graft models} shows for a zoo architecture, as its source documents it.
 *
 * @param parameters   number of parameters of the published ImageNet model
 * @param gflops       billions of multiply-adds per image at the default input size, as torchvision's documentation
 *                     counts its "GFLOPS"
 * @param inputSize    default crop size of the published weights
 * @param imagenetTop1 ImageNet-1k top-1 accuracy of the published weights (percent)
 * @param license      the weights' licence note
 */
public record ModelCard(long parameters, double gflops, int inputSize, double imagenetTop1, String license) {
}
