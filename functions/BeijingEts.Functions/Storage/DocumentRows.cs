using System.Globalization;
using BeijingEts.Functions.Audit;

namespace BeijingEts.Functions.Storage;

/// <summary>
/// Rows that hold one record as a JSON document in their "Document" column, plus any columns kept for filtering:
/// how most stores keep their records. Enums are written by name, as the API shows them.
/// </summary>
public static class DocumentRows
{
    public const string Column = "Document";

    /// <summary>
    /// Chinese text is written as itself, not as \uXXXX escapes (six characters each), so a record of Chinese names and
    /// findings fits a row; documents are stored, never embedded in HTML, so the relaxed escaping is safe here.
    /// </summary>
    public static readonly JsonSerializerOptions Json = new(AuditLog.AuditJson)
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower) },
    };

    /// <summary>A year as a key: four digits, so years sort as text.</summary>
    public static string YearKey(int year) => year.ToString("D4", CultureInfo.InvariantCulture);

    public static async Task<T?> FindDocumentAsync<T>(this TableClient table, string partition, string row, CancellationToken cancellationToken)
    {
        var found = await table.GetEntityIfExistsAsync<TableEntity>(partition, row, cancellationToken: cancellationToken);
        return found.HasValue ? Read<T>(found.Value!) : default;
    }

    public static async Task<IReadOnlyList<T>> ReadPartitionAsync<T>(this TableClient table, string partition, CancellationToken cancellationToken)
    {
        var all = new List<T>();
        await foreach (var row in table.QueryAsync<TableEntity>(r => r.PartitionKey == partition, cancellationToken: cancellationToken)) all.Add(Read<T>(row));
        return all;
    }

    /// <summary>
    /// The documents of the named rows of one partition, by row key: one query over the range the names span instead of a
    /// read per row (rows in the range that are not named are left out).
    /// </summary>
    public static async Task<IReadOnlyDictionary<string, T>> ReadRowsAsync<T>(this TableClient table, string partition, IReadOnlyCollection<string> rows,
        CancellationToken cancellationToken)
    {
        var found = new Dictionary<string, T>(StringComparer.Ordinal);
        if (rows.Count == 0) return found;
        var wanted = rows.ToHashSet(StringComparer.Ordinal);
        await foreach (var row in table.QueryAsync<TableEntity>(RowRange(partition, rows), cancellationToken: cancellationToken))
        {
            if (wanted.Contains(row.RowKey)) found[row.RowKey] = Read<T>(row);
        }
        return found;
    }

    /// <summary>The documents of one partition whose columns equal the given values (a null value filters nothing): the query does the filtering.</summary>
    public static async Task<IReadOnlyList<T>> QueryDocumentsAsync<T>(this TableClient table, string partition, IEnumerable<(string Column, object? Value)> equal,
        CancellationToken cancellationToken)
    {
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {partition}");
        foreach (var (column, value) in equal.Where(e => e.Value is not null)) filter += $" and {column} eq " + TableClient.CreateQueryFilter($"{value}");
        var found = new List<T>();
        await foreach (var row in table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken)) found.Add(Read<T>(row));
        return found;
    }

    /// <summary>The filter for the rows of one partition from the least to the greatest of the named row keys (rows between them included).</summary>
    public static string RowRange(string partition, IReadOnlyCollection<string> rows) =>
        TableClient.CreateQueryFilter($"PartitionKey eq {partition} and RowKey ge {rows.Min(StringComparer.Ordinal)} and RowKey le {rows.Max(StringComparer.Ordinal)}");

    public static TableEntity Entity<T>(string partition, string row, T document) => new(partition, row) { [Column] = JsonSerializer.Serialize(document, Json) };

    public static Task UpsertDocumentAsync<T>(this TableClient table, string partition, string row, T document, CancellationToken cancellationToken) =>
        table.UpsertEntityAsync(Entity(partition, row, document), TableUpdateMode.Replace, cancellationToken);

    public static T Read<T>(TableEntity row) => JsonSerializer.Deserialize<T>(row.GetString(Column), Json)!;

    /// <summary>
    /// Writes the row if nobody else wrote first: added when <paramref name="etag"/> is null, else replaced if unchanged
    /// since it was read. False when the row was there already (add) or had changed (replace): read again and decide.
    /// </summary>
    public static async Task<bool> TryWriteAsync(this TableClient table, TableEntity entity, ETag? etag, CancellationToken cancellationToken)
    {
        try
        {
            if (etag is { } match) await table.UpdateEntityAsync(entity, match, TableUpdateMode.Replace, cancellationToken);
            else await table.AddEntityAsync(entity, cancellationToken);
            return true;
        }
        catch (RequestFailedException error) when (error.Status is 409 or 412)
        {
            return false;
        }
    }
}
