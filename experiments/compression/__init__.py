"""Compressing a pruned network into a file (Han et al. 2016; Jin et al. 2019): relative sparse
indices, k-means weight sharing, Huffman coding, error-bounded value codecs, the container."""
