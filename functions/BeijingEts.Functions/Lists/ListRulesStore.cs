using BeijingEts.Domain.Lists;

namespace BeijingEts.Functions.Lists;

/// <summary>The Art. 6 rules the regulator sets, each in force from its year until a later one.</summary>
public sealed class ListRulesStore(StorageClients storage)
{
    private const string Partition = "rules";

    private TableClient Table => storage.Table(StorageNames.Tables.ListRules);

    public async Task<IReadOnlyList<ListRules>> ReadAllAsync(CancellationToken cancellationToken)
    {
        var rules = new List<ListRules>();
        await foreach (var row in Table.QueryAsync<TableEntity>(r => r.PartitionKey == Partition, cancellationToken: cancellationToken))
        {
            rules.Add(new ListRules(
                int.Parse(row.RowKey, System.Globalization.CultureInfo.InvariantCulture),
                decimal.Parse(row.GetString("EnergyThresholdTce"), System.Globalization.CultureInfo.InvariantCulture),
                row.GetInt64("KeyEmissionsThresholdT") ?? ListRules.DefaultKeyEmissionsThresholdT,
                row.GetString("CoveredIndustries").Split(',', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal)));
        }
        return rules;
    }

    public async Task<ListRules> InForceAsync(int year, CancellationToken cancellationToken) =>
        ListRules.InForce(year, await ReadAllAsync(cancellationToken));

    public Task PutAsync(ListRules rules, CancellationToken cancellationToken) =>
        Table.UpsertEntityAsync(new TableEntity(Partition, DocumentRows.YearKey(rules.FromYear))
        {
            ["EnergyThresholdTce"] = rules.EnergyThresholdTce.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["KeyEmissionsThresholdT"] = rules.KeyEmissionsThresholdT,
            ["CoveredIndustries"] = string.Join(",", rules.CoveredIndustries.Order(StringComparer.Ordinal)),
        }, TableUpdateMode.Replace, cancellationToken);
}

/// <summary>Each unit's yearly statistics: one partition per year, so a year's list reads one partition.</summary>
public sealed class StatisticsStore(StorageClients storage)
{
    private TableClient Table => storage.Table(StorageNames.Tables.Statistics);

    public async Task<UnitStatistics?> FindAsync(int year, string uscc, CancellationToken cancellationToken)
    {
        var row = await Table.GetEntityIfExistsAsync<TableEntity>(DocumentRows.YearKey(year), uscc, cancellationToken: cancellationToken);
        return row.HasValue ? FromEntity(row.Value!) : null;
    }

    public async Task<IReadOnlyDictionary<string, UnitStatistics>> ReadYearAsync(int year, CancellationToken cancellationToken)
    {
        var partition = DocumentRows.YearKey(year);
        var figures = new Dictionary<string, UnitStatistics>(StringComparer.Ordinal);
        await foreach (var row in Table.QueryAsync<TableEntity>(r => r.PartitionKey == partition, cancellationToken: cancellationToken))
        {
            figures[row.RowKey] = FromEntity(row);
        }
        return figures;
    }

    public Task PutAsync(int year, string uscc, UnitStatistics statistics, string source, CancellationToken cancellationToken) =>
        Table.UpsertEntityAsync(ToEntity(year, uscc, statistics, source), TableUpdateMode.Replace, cancellationToken);

    public Task PutManyAsync(int year, IEnumerable<(string Uscc, UnitStatistics Statistics)> rows, string source, CancellationToken cancellationToken) =>
        TableBatches.UpsertAsync(Table, rows.Select(r => ToEntity(year, r.Uscc, r.Statistics, source)), cancellationToken);

    private static TableEntity ToEntity(int year, string uscc, UnitStatistics s, string source) => new(DocumentRows.YearKey(year), uscc)
    {
        // Energy is kept as decimal text: a double would turn 1999.99 tce into something that is not quite 1999.99.
        ["EnergyConsumptionTce"] = s.EnergyConsumptionTce.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["DirectEmissionsT"] = s.DirectEmissionsT,
        ["IndirectEmissionsT"] = s.IndirectEmissionsT,
        ["OutsideNationalBoundaryEmissionsT"] = s.OutsideNationalBoundaryEmissionsT,
        ["Source"] = source,
    };

    private static UnitStatistics FromEntity(TableEntity row) => new(
        decimal.Parse(row.GetString("EnergyConsumptionTce"), System.Globalization.CultureInfo.InvariantCulture),
        row.GetInt64("DirectEmissionsT") ?? 0,
        row.GetInt64("IndirectEmissionsT") ?? 0,
        row.GetInt64("OutsideNationalBoundaryEmissionsT"));

}
