namespace BeijingEts.Functions.Tests.Api;

/// <summary>Every entity, blob and queue depth under a storage prefix, each with its ETag, to show that nothing was written.</summary>
public sealed record StorageSnapshot(IReadOnlyDictionary<string, string> Items)
{
    public static async Task<StorageSnapshot> TakeAsync(StorageClients storage, string prefix)
    {
        var ct = TestContext.Current.CancellationToken;
        var items = new Dictionary<string, string>(StringComparer.Ordinal);
        await foreach (var table in storage.Tables.QueryAsync(t => t.Name.CompareTo(prefix) >= 0 && t.Name.CompareTo(prefix + "{") < 0, cancellationToken: ct))
        {
            items[$"table {table.Name}"] = "";
            await foreach (var entity in storage.Tables.GetTableClient(table.Name).QueryAsync<TableEntity>(select: ["PartitionKey", "RowKey"], cancellationToken: ct))
            {
                items[$"entity {table.Name}/{entity.PartitionKey}/{entity.RowKey}"] = entity.ETag.ToString();
            }
        }
        await foreach (var container in storage.Blobs.GetBlobContainersAsync(prefix: prefix, cancellationToken: ct))
        {
            items[$"container {container.Name}"] = "";
            await foreach (var blob in storage.Blobs.GetBlobContainerClient(container.Name).GetBlobsAsync(cancellationToken: ct))
            {
                items[$"blob {container.Name}/{blob.Name}"] = blob.Properties.ETag?.ToString() ?? "";
            }
        }
        await foreach (var queue in storage.Queues.GetQueuesAsync(prefix: prefix, cancellationToken: ct))
        {
            var properties = await storage.Queues.GetQueueClient(queue.Name).GetPropertiesAsync(ct);
            items[$"queue {queue.Name}"] = properties.Value.ApproximateMessagesCount.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        return new StorageSnapshot(items);
    }

    /// <summary>What was added or changed since <paramref name="before"/>, one line each.</summary>
    public IReadOnlyList<string> ChangesSince(StorageSnapshot before) =>
        Items.Where(i => !before.Items.TryGetValue(i.Key, out var etag) || etag != i.Value)
            .Select(i => before.Items.ContainsKey(i.Key) ? $"changed {i.Key}" : $"added {i.Key}")
            .Concat(before.Items.Keys.Where(k => !Items.ContainsKey(k)).Select(k => $"removed {k}"))
            .OrderBy(s => s, StringComparer.Ordinal).ToList();
}
