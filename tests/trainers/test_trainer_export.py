"""ONNX export of the students: op sets, Resize attributes, tensor names, dynamic sizes, parity."""

import onnx
import pytest
import torch

from trainers.saliency_student.export import (
    ParityError,
    check_parity,
    export_onnx,
    op_types,
    resize_attributes,
)
from trainers.saliency_student.model import saliency_student_v1, saliency_student_v2


def _trained_like(factory):
    """A student with non-trivial BatchNorm statistics, as after training."""
    torch.manual_seed(0)
    model = factory()
    model.train()
    with torch.no_grad():
        model(torch.randn(4, 3, 32, 32) * 2 + 0.5)
    return model.eval()


@pytest.fixture(scope="module")
def v1_proto():
    return export_onnx(_trained_like(saliency_student_v1))


@pytest.fixture(scope="module")
def v2_proto():
    return export_onnx(_trained_like(saliency_student_v2))


def test_v1_exports_to_exactly_its_op_set(v1_proto):
    assert op_types(v1_proto) == ["Concat", "Conv", "ConvTranspose", "MaxPool", "Relu", "Sigmoid"]


def test_v2_exports_to_exactly_its_op_set(v2_proto):
    assert op_types(v2_proto) == ["Concat", "Constant", "Conv", "MaxPool", "Relu", "Resize", "Sigmoid"]


def test_untrained_student_exports_the_same_op_set_as_a_trained_one(v1_proto):
    assert op_types(export_onnx(saliency_student_v1())) == op_types(v1_proto)


def test_v2_resize_is_half_pixel_bilinear_without_antialias(v2_proto):
    assert resize_attributes(v2_proto) == {
        "mode": "linear",
        "coordinate_transformation_mode": "half_pixel",
        "antialias": 0,
    }


def test_v2_resize_scales_are_constant_one_one_two_two(v2_proto):
    constants = {
        node.output[0]: onnx.numpy_helper.to_array(node.attribute[0].t)
        for node in v2_proto.graph.node
        if node.op_type == "Constant"
    }
    resizes = [node for node in v2_proto.graph.node if node.op_type == "Resize"]
    assert len(resizes) == 3
    for node in resizes:
        assert list(node.input[2:]) == [node.input[2]]  # scales given, sizes absent
        assert constants[node.input[2]].tolist() == [1.0, 1.0, 2.0, 2.0]


def test_export_has_named_tensors_batch_one_and_dynamic_height_width(v1_proto):
    def dims(value):
        return [d.dim_param or d.dim_value for d in value.type.tensor_type.shape.dim]

    (inp,), (out,) = v1_proto.graph.input, v1_proto.graph.output
    assert (inp.name, dims(inp)) == ("input", [1, 3, "H", "W"])
    assert (out.name, dims(out)) == ("saliency_map", [1, 1, "H", "W"])
    assert inp.type.tensor_type.elem_type == out.type.tensor_type.elem_type == onnx.TensorProto.FLOAT


def test_export_is_opset_17_with_inline_weights(v1_proto):
    assert [(o.domain, o.version) for o in v1_proto.opset_import] == [("", 17)]
    assert all(t.data_location != onnx.TensorProto.EXTERNAL for t in v1_proto.graph.initializer)


def test_batchnorm_is_folded_into_the_convolutions(v2_proto):
    assert "BatchNormalization" not in op_types(v2_proto)


@pytest.mark.parametrize("factory", [saliency_student_v1, saliency_student_v2])
def test_onnx_runtime_matches_pytorch_within_1e_5_at_several_sizes(factory, tmp_path):
    model = _trained_like(factory)
    onnx.save(export_onnx(model), tmp_path / "m.onnx")
    assert check_parity(model, tmp_path / "m.onnx") <= 1e-5


def test_parity_check_rejects_an_onnx_file_of_other_weights(tmp_path):
    onnx.save(export_onnx(_trained_like(saliency_student_v1)), tmp_path / "m.onnx")
    torch.manual_seed(1)
    other = saliency_student_v1().eval()
    with pytest.raises(ParityError, match="max-abs-diff"):
        check_parity(other, tmp_path / "m.onnx")
