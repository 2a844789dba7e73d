"""Importing the graph's weights into the reference by structure: folding, pairing and the strict rules."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from onnx import helper, numpy_helper
from parity_builders import ConvBnNet, export, initializer, probe, trained_like
from torch import nn

from pytest_tinyai.parity import ParityError
from pytest_tinyai.parity.structure import import_weights


def graph_output(proto: onnx.ModelProto, x: torch.Tensor) -> np.ndarray:
    session = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {"input": x.numpy()})[0]


def imported(reference: nn.Module, proto: onnx.ModelProto) -> nn.Module:
    import_weights(reference.eval(), proto, probe())
    return reference


def max_abs_diff(reference: nn.Module, proto: onnx.ModelProto) -> float:
    x = torch.randn(1, 3, 24, 20)
    with torch.no_grad():
        expected = reference(x).numpy()
    return float(np.abs(graph_output(proto, x) - expected).max())


class ConvTransposeBnNet(nn.Module):
    """ConvTranspose -> BatchNorm: the exporter keeps this BatchNorm as a BatchNormalization node."""

    def __init__(self) -> None:
        super().__init__()
        self.up = nn.ConvTranspose2d(3, 4, kernel_size=2, stride=2)
        self.bn = nn.BatchNorm2d(4)
        self.head = nn.Conv2d(4, 1, kernel_size=2, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.bn(self.up(x)))


class ReluBnNet(nn.Module):
    """Conv -> ReLU -> BatchNorm -> Conv: the BatchNorm reads a ReLU's output, not a convolution's."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, kernel_size=3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.head = nn.Conv2d(4, 1, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.bn(torch.relu(self.conv(x))))


class ReluNet(nn.Module):
    """ReluBnNet without its BatchNorm."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, kernel_size=3, padding=1)
        self.head = nn.Conv2d(4, 1, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(torch.relu(self.conv(x)))


class ScaledNet(ConvBnNet):
    """ConvBnNet with a learnt output scale owned by the network itself, used outside any layer."""

    def __init__(self) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.ones(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x) * self.scale


class SpareLayerNet(ConvBnNet):
    """ConvBnNet with a layer its forward never runs."""

    def __init__(self) -> None:
        super().__init__()
        self.spare = nn.Conv2d(4, 4, kernel_size=1)


class TwiceNet(nn.Module):
    """One convolution applied twice (shared weights)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 3, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(self.conv(x))


def upsampling_net() -> nn.Module:
    return nn.Sequential(ConvBnNet(), nn.Upsample(scale_factor=2, mode="bilinear"))


@pytest.fixture(scope="module")
def net_proto() -> onnx.ModelProto:
    return export(trained_like(ConvBnNet()))


def test_imported_reference_matches_the_graph_although_no_weight_name_matches(net_proto):
    reference = ConvBnNet()
    module_names = {name for name, _ in reference.named_parameters()}
    graph_names = {tensor.name for tensor in net_proto.graph.initializer}
    assert not module_names & {name for name in graph_names if name.startswith("onnx::")}

    assert max_abs_diff(imported(reference, net_proto), net_proto) <= 1e-5


def test_every_parameter_is_replaced_by_the_graphs_not_kept_from_the_fresh_module(net_proto):
    torch.manual_seed(123)
    fresh = ConvBnNet()

    reference = imported(fresh, net_proto)

    head_bias = numpy_helper.to_array(initializer(net_proto, "head.bias"))
    np.testing.assert_array_equal(reference.head.bias.detach().numpy(), head_bias)


def test_batchnorm_the_exporter_folded_is_folded_into_its_convolution(net_proto):
    reference = imported(ConvBnNet(), net_proto)

    assert isinstance(reference.features[1], nn.Identity)
    assert reference.features[0].bias is not None
    assert not any(isinstance(module, nn.BatchNorm2d) for module in reference.modules())


def test_batchnorm_the_exporter_kept_is_paired_with_its_batchnormalization_node():
    proto = export(trained_like(ConvTransposeBnNet()))
    assert "BatchNormalization" in {node.op_type for node in proto.graph.node}

    reference = imported(ConvTransposeBnNet(), proto)

    assert isinstance(reference.bn, nn.BatchNorm2d)
    assert max_abs_diff(reference, proto) <= 1e-5


def test_batchnorm_that_reads_no_convolution_and_has_no_graph_node_cannot_be_folded():
    proto = export(trained_like(ReluNet()))

    with pytest.raises(ParityError, match=r"BatchNorm 'bn' cannot be folded: its input is not the output of a conv"):
        imported(ReluBnNet(), proto)


def test_graph_with_an_extra_convolution_names_the_unpaired_node():
    reference_of_fewer_layers = ConvBnNet()
    proto = export(trained_like(nn.Sequential(ConvBnNet(), nn.Conv2d(1, 1, kernel_size=1))))

    with pytest.raises(ParityError, match=r"graph nodes with no module in the reference: '/1/Conv' \(Conv\)"):
        imported(reference_of_fewer_layers, proto)


def test_changed_weight_shape_names_node_module_and_both_shapes(net_proto):
    with pytest.raises(ParityError) as failure:
        imported(ConvBnNet(channels=8), net_proto)

    message = str(failure.value)
    assert "graph node '/features/features.0/Conv' (Conv) -> module 'features.0' (Conv2d)" in message
    assert "weight is [4, 3, 3, 3] in the graph, [8, 3, 3, 3] in the module" in message
    assert "module 'head' (Conv2d): weight is [1, 4, 1, 1] in the graph, [1, 8, 1, 1] in the module" in message


def test_layer_of_another_kind_at_the_same_position_is_refused():
    proto = export(trained_like(ConvTransposeBnNet()))

    with pytest.raises(ParityError, match=r"'/up/ConvTranspose' \(ConvTranspose\), meets module 'features.0'"):
        imported(ConvBnNet(), proto)


def test_initializer_that_no_module_maps_is_named_with_its_consumer(net_proto):
    proto = onnx.ModelProto()
    proto.CopyFrom(net_proto)
    output = proto.graph.output[0].name
    proto.graph.node[-1].output[0] = "unscaled"
    proto.graph.node.append(helper.make_node("Mul", ["unscaled", "gain"], [output], name="gain_mul"))
    proto.graph.initializer.append(numpy_helper.from_array(np.full((1,), 1.5, np.float32), "gain"))

    with pytest.raises(ParityError, match=r"initializer 'gain' \[1\] feeds Mul 'gain_mul' and no module of the ref"):
        imported(ConvBnNet(), proto)


def test_initializer_used_by_no_node_is_reported(net_proto):
    proto = onnx.ModelProto()
    proto.CopyFrom(net_proto)
    proto.graph.initializer.append(numpy_helper.from_array(np.zeros((2, 2), np.float32), "stray"))

    with pytest.raises(ParityError, match=r"initializer 'stray' \[2, 2\] is used by no node"):
        imported(ConvBnNet(), proto)


def test_constant_inputs_such_as_resize_scales_are_structure_not_weights():
    proto = export(trained_like(upsampling_net()), do_constant_folding=False)
    scales = numpy_helper.from_array(np.array([1, 1, 2, 2], np.float32), "resize_scales")
    proto.graph.initializer.append(scales)
    resize = next(node for node in proto.graph.node if node.op_type == "Resize")
    resize.input[2] = "resize_scales"

    assert max_abs_diff(imported(upsampling_net(), proto), proto) <= 1e-5


def test_parameters_of_a_layer_that_never_runs_are_named_as_unfilled(net_proto):
    unfilled = r"no graph weight fills: 'spare.weight' \[4, 4, 1, 1\], 'spare.bias' \[4\]"
    with pytest.raises(ParityError, match=unfilled):
        imported(SpareLayerNet(), net_proto)


def test_parameter_owned_by_the_network_itself_is_refused(net_proto):
    with pytest.raises(ParityError, match=r"the reference itself \(ScaledNet\) owns \['scale'\], and only"):
        imported(ScaledNet(), net_proto)


def test_module_of_a_kind_without_a_graph_counterpart_is_refused(net_proto):
    reference = nn.Sequential(ConvBnNet(), nn.PReLU())

    with pytest.raises(ParityError, match=r"module '1' \(PReLU\) owns \['weight'\], and only"):
        imported(reference, net_proto)


def test_module_that_runs_twice_is_refused():
    proto = export(trained_like(TwiceNet()))

    with pytest.raises(ParityError, match=r"module 'conv' \(Conv2d\) runs more than once"):
        imported(TwiceNet(), proto)
