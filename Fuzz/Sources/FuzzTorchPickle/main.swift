import Foundation
import FuzzSupport
@testable import VAEFormats

// The restricted unpickler on arbitrary bytes: a checkpoint's data.pkl.
//
// - `TorchUnpickler.run` must refuse with a one-line message or return a value, and so must the
//   search for the state dict in what it returns (which walks shared and self-holding containers).
// - Every tensor view it accepts reaches only elements inside its storage: the invariant the
//   reader relies on when it gathers the values.
// - Every value refers to containers, storages and tensors that exist.
// -malloc_limit_mb=512 (scripts/fuzz) checks that nothing is sized by what the pickle claims.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTorchPickle(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let bytes = start.map { Array(UnsafeRawBufferPointer(start: $0, count: count)) } ?? []
    var unpickler = TorchUnpickler(bytes: bytes, file: "fuzz.pt", entry: "archive/data.pkl")
    let root: PickleValue
    do {
        root = try unpickler.run()
    } catch {
        checkOneLine(error.message)
        return 0
    }

    for view in unpickler.tensors {
        check(view.storage < unpickler.storages.count, "a view of storage \(view.storage) of \(unpickler.storages.count)")
        check(StoredTensor.elementCount(view.shape) == view.count, "count \(view.count) for shape \(view.shape)")
        guard view.count > 0 else { continue }
        var last = view.offset
        for (size, stride) in zip(view.shape, view.strides) { last += (size - 1) * stride }
        let storage = unpickler.storages[view.storage]
        var capacity = storage.count
        if case .known(let type) = view.elementType, storage.elementType == .known(.uint8), type != .uint8 {
            capacity = storage.count / type.size  // _rebuild_tensor_v3 over an untyped (byte) storage
        }
        check(view.offset >= 0 && last < capacity, "a view reaching element \(last) of a storage of \(capacity)")
    }
    checkReferences(root, in: unpickler)

    do {
        let (pairs, _) = try TorchCheckpoint.stateDict(in: root, objects: unpickler.objects, tensors: unpickler.tensors, file: "fuzz.pt")
        check(!pairs.isEmpty, "an empty state dict was accepted")
        for (name, original, index) in pairs {
            check(index < unpickler.tensors.count, "tensor \(index) of \(unpickler.tensors.count)")
            check(original.hasSuffix(name) && !name.isEmpty, "'\(original)' unwrapped to '\(name)'")
        }
    } catch {
        checkOneLine(error.message)
    }
    return 0
}

/// Every container index, storage and tensor a value names exists (each container visited once).
private func checkReferences(_ root: PickleValue, in unpickler: TorchUnpickler) {
    var seen = Set<Int>()
    var pending = [root]
    while let value = pending.popLast() {
        switch value {
        case .object(let index):
            check(index < unpickler.objects.all.count, "container \(index) of \(unpickler.objects.all.count)")
            guard seen.insert(index).inserted else { continue }
            switch unpickler.objects[index] {
            case .list(let items), .tuple(let items): pending += items
            case .dict(let keys, let values, let positions):
                check(keys.count == values.count && positions.count == keys.count, "a dict of \(keys.count) keys, \(values.count) values, \(positions.count) positions")
                pending += keys + values
            case .set: break
            }
        case .storage(let index): check(index < unpickler.storages.count, "storage \(index) of \(unpickler.storages.count)")
        case .tensor(let index): check(index < unpickler.tensors.count, "tensor \(index) of \(unpickler.tensors.count)")
        default: break
        }
    }
}
