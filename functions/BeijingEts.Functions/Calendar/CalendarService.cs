using BeijingEts.Domain.Calendar;

namespace BeijingEts.Functions.Calendar;

/// <summary>
/// The working-day calendar: the years shipped with the app (cn-workdays.json, 2024-2026) overlaid by the years
/// the regulator loads through PUT /api/calendar/{year}, which live in the calendar table. Loaded years are read
/// again after a short time, so every instance sees a new notice within a minute.
/// </summary>
public sealed class CalendarService(StorageClients storage, TimeProvider clock)
{
    private const string Partition = "years";
    private static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(30);
    private static readonly Lazy<IReadOnlyDictionary<int, CalendarYear>> BuiltIn = new(LoadBuiltIn);

    private readonly SemaphoreSlim _refresh = new(1, 1);
    private (WorkingDayCalendar Calendar, Dictionary<int, CalendarYear> Years, DateTimeOffset LoadedAt)? _cache;

    public static IReadOnlyDictionary<int, CalendarYear> BuiltInYears => BuiltIn.Value;

    public async Task<WorkingDayCalendar> GetAsync(CancellationToken cancellationToken) => (await LoadAsync(cancellationToken)).Calendar;

    public async Task<CalendarYear?> FindYearAsync(int year, CancellationToken cancellationToken) =>
        (await LoadAsync(cancellationToken)).Years.GetValueOrDefault(year);

    /// <summary>Stores a year's notice (replacing an earlier one) and returns what was there before.</summary>
    public async Task<CalendarYear?> PutYearAsync(CalendarYear year, CancellationToken cancellationToken)
    {
        var before = await FindYearAsync(year.Year, cancellationToken);
        var document = new CalendarFile.YearDocument(year.Source, year.Holidays.Order().ToList(), year.MakeupWorkdays.Order().ToList());
        await storage.Table(StorageNames.Tables.Calendar).UpsertEntityAsync(
            new TableEntity(Partition, DocumentRows.YearKey(year.Year)) { ["Document"] = JsonSerializer.Serialize(document) },
            TableUpdateMode.Replace, cancellationToken);
        _cache = null;
        return before;
    }

    private async Task<(WorkingDayCalendar Calendar, Dictionary<int, CalendarYear> Years, DateTimeOffset LoadedAt)> LoadAsync(CancellationToken cancellationToken)
    {
        if (_cache is { } fresh && clock.GetUtcNow() - fresh.LoadedAt < CacheFor) return fresh;
        await _refresh.WaitAsync(cancellationToken);
        try
        {
            if (_cache is { } again && clock.GetUtcNow() - again.LoadedAt < CacheFor) return again;
            var years = new Dictionary<int, CalendarYear>(BuiltIn.Value);
            await foreach (var row in storage.Table(StorageNames.Tables.Calendar).QueryAsync<TableEntity>(r => r.PartitionKey == Partition, cancellationToken: cancellationToken))
            {
                var year = int.Parse(row.RowKey, System.Globalization.CultureInfo.InvariantCulture);
                var document = JsonSerializer.Deserialize<CalendarFile.YearDocument>(row.GetString("Document"))!;
                years[year] = CalendarFile.ToYear(year, document);
            }
            var loaded = (new WorkingDayCalendar(years.Values), years, clock.GetUtcNow());
            _cache = loaded;
            return loaded;
        }
        finally
        {
            _refresh.Release();
        }
    }

    public static bool IsBuiltIn(CalendarYear year) =>
        BuiltIn.Value.TryGetValue(year.Year, out var shipped) && shipped.Holidays.SetEquals(year.Holidays) && shipped.MakeupWorkdays.SetEquals(year.MakeupWorkdays);


    private static IReadOnlyDictionary<int, CalendarYear> LoadBuiltIn()
    {
        using var stream = typeof(CalendarService).Assembly.GetManifestResourceStream("cn-workdays.json")
            ?? throw new InvalidOperationException("The cn-workdays.json resource is missing from the build.");
        return CalendarFile.Parse(stream).ToDictionary(y => y.Year);
    }
}
