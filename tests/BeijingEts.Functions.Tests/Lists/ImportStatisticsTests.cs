using System.Net.Http.Headers;
using System.Text;
using MiniExcelLibs;

namespace BeijingEts.Functions.Tests.Lists;

public sealed class ImportFixture : EtsAppFixture;

public sealed class ImportStatisticsTests(ImportFixture app) : IClassFixture<ImportFixture>
{
    private readonly HttpClient _regulator = app.Client("regulator");
    private CancellationToken Ct => TestContext.Current.CancellationToken;

    private static ByteArrayContent File(byte[] bytes, string mediaType)
    {
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue(mediaType);
        return content;
    }

    private static ByteArrayContent CsvFile(string text) => File(Encoding.UTF8.GetBytes(text), "text/csv");

    private Task<HttpResponseMessage> ImportAsync(int year, HttpContent content) => _regulator.PostAsync($"/api/lists/{year}/statistics", content, Ct);

    private async Task AssertNoStatisticsAsync(int year, params string[] units)
    {
        foreach (var uscc in units)
        {
            Assert.Equal(HttpStatusCode.NotFound, (await _regulator.GetAsync($"/api/units/{uscc}/statistics/{year}", Ct)).StatusCode);
        }
    }

    [Fact]
    public async Task FiveThousandRows_ImportInOneRequestAndRegisterTheUnits()
    {
        var units = Enumerable.Range(0, 5000).Select(_ => TestUnits.NewUscc()).Distinct().ToList();
        var csv = new StringBuilder("uscc,name,district,industry,nationalEts,energyConsumptionTce,directEmissionsT,indirectEmissionsT,outsideNationalBoundaryEmissionsT\r\n");
        for (var i = 0; i < units.Count; i++)
        {
            var national = i % 10 == 0;
            csv.Append(FormattableString.Invariant($"{units[i]},\"单位 {i}, 有限公司\",海淀区,{(i % 3 == 0 ? "power" : "services")},{national},{2000 + i}.5,{i * 3},{i},{(national ? (i * 2).ToString() : "")}\r\n"));
        }

        var response = await ImportAsync(2024, CsvFile(csv.ToString()));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var answer = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal(units.Count, answer.GetProperty("imported").GetInt32());
        Assert.Equal(units.Count, answer.GetProperty("registered").GetInt32());
        var sample = await _regulator.GetFromJsonAsync<JsonElement>($"/api/units/{units[42]}/statistics/2024", Ct);
        Assert.Equal(2042.5m, sample.GetProperty("energyConsumptionTce").GetDecimal());
        Assert.Equal(126, sample.GetProperty("directEmissionsT").GetInt64());
        var unit = await _regulator.GetFromJsonAsync<JsonElement>($"/api/units/{units[42]}", Ct);
        Assert.Equal("单位 42, 有限公司", unit.GetProperty("name").GetString());
    }

    [Fact]
    public async Task OneBadFile_ListsEveryErrorByRowAndColumnAndImportsNothing()
    {
        var good = await TestUnits.RegisterAsync(_regulator);
        var national = await TestUnits.RegisterAsync(_regulator, industry: "power", nationalEts: true);
        var wrongCheck = TestUnits.NewUscc()[..17] + "I";
        var unregistered = TestUnits.NewUscc();
        var csv = string.Join("\r\n",
            "uscc,energyConsumptionTce,directEmissionsT,indirectEmissionsT",
            $"{good},2500,6000,0",                // row 2: fine
            $"{wrongCheck},2500,6000,0",          // row 3: bad code
            $"{national},90000,5000,0",           // row 4: national ETS unit without its outside-boundary figure
            $"{good},2600,6000,0",                // row 5: duplicate of row 2
            $"{unregistered},2500,1,1",           // row 6: not registered
            $"{await TestUnits.RegisterAsync(_regulator)},-3,1.5,x") + "\r\n"; // row 7: three bad figures

        var response = await ImportAsync(2024, CsvFile(csv));

        var problem = await response.AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.Contains("nothing was imported", problem.Detail);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        var errors = body.GetProperty("errors").EnumerateArray().Select(e => (e.GetProperty("row").GetInt32(), e.GetProperty("column").GetString())).ToList();
        Assert.Contains((3, "uscc"), errors);
        Assert.Contains((4, "outsideNationalBoundaryEmissionsT"), errors);
        Assert.Contains((5, "uscc"), errors);
        Assert.Contains((6, "uscc"), errors);
        Assert.Contains((7, "energyConsumptionTce"), errors);
        Assert.Contains((7, "directEmissionsT"), errors);
        Assert.Contains((7, "indirectEmissionsT"), errors);
        Assert.DoesNotContain(errors, e => e.Item1 == 2);
        await AssertNoStatisticsAsync(2024, good, national);
    }

    [Theory]
    [InlineData("uscc,energy,directEmissionsT,indirectEmissionsT\r\n", "'energy' is not a column")]
    [InlineData("uscc,directEmissionsT,indirectEmissionsT\r\n", "Missing column(s) energyConsumptionTce")]
    [InlineData("uscc,name,energyConsumptionTce,directEmissionsT,indirectEmissionsT\r\n", "give all of name, district and industry")]
    [InlineData("", "empty")]
    public async Task WrongHeader_Gives400NamingTheColumns(string csv, string expected)
    {
        var response = await ImportAsync(2024, CsvFile(csv));

        Assert.Contains(expected, (await response.AssertProblemAsync(HttpStatusCode.BadRequest)).Detail);
    }

    [Fact]
    public async Task GbkEncodedFile_IsRefusedAsNotUtf8()
    {
        var uscc = await TestUnits.RegisterAsync(_regulator);
        // "北京" in GBK: bytes that are not valid UTF-8.
        var bytes = Encoding.ASCII.GetBytes($"uscc,name,district,industry,energyConsumptionTce,directEmissionsT,indirectEmissionsT\r\n{uscc},")
            .Concat(new byte[] { 0xB1, 0xB1, 0xBE, 0xA9 }).Concat(Encoding.ASCII.GetBytes(",x,power,2500,1,1\r\n")).ToArray();

        var response = await ImportAsync(2024, File(bytes, "text/csv"));

        Assert.Contains("UTF-8", (await response.AssertProblemAsync(HttpStatusCode.BadRequest)).Detail);
        await AssertNoStatisticsAsync(2024, uscc);
    }

    [Fact]
    public async Task FileThatIsNotASpreadsheet_IsRefused()
    {
        var response = await ImportAsync(2024, File(Encoding.UTF8.GetBytes("this is not a zip file"), TabularXlsx));

        Assert.Contains("not an XLSX spreadsheet", (await response.AssertProblemAsync(HttpStatusCode.BadRequest)).Detail);
    }

    [Fact]
    public async Task ZipBombXlsx_IsA400_AndNothingIsImported()
    {
        const int year = 2016; // no other test imports for it
        var response = await ImportAsync(year, File(Files.HostileFileTests.ZipBombXlsx(256L * 1024 * 1024), TabularXlsx));

        Assert.Contains("unpacks to more than", (await response.AssertProblemAsync(HttpStatusCode.BadRequest)).Detail);
        Assert.Empty(await app.Storage.Container(StorageNames.Containers.Imports).GetBlobsAsync(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, $"{year}/", Ct).ToListAsync(Ct));
    }

    private const string TabularXlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

    [Fact]
    public async Task Xlsx_ImportsLikeCsv()
    {
        var first = await TestUnits.RegisterAsync(_regulator);
        var second = await TestUnits.RegisterAsync(_regulator, industry: "power", nationalEts: true);
        using var stream = new MemoryStream();
        stream.SaveAs(new[]
        {
            new Dictionary<string, object?> { ["uscc"] = first, ["energyConsumptionTce"] = 1999.99, ["directEmissionsT"] = 7000, ["indirectEmissionsT"] = 10, ["outsideNationalBoundaryEmissionsT"] = null },
            new Dictionary<string, object?> { ["uscc"] = second, ["energyConsumptionTce"] = 50000, ["directEmissionsT"] = 300000, ["indirectEmissionsT"] = 0, ["outsideNationalBoundaryEmissionsT"] = 5000 },
        }, excelType: ExcelType.XLSX);

        var response = await ImportAsync(2024, File(stream.ToArray(), TabularXlsx));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var figures = await _regulator.GetFromJsonAsync<JsonElement>($"/api/units/{first}/statistics/2024", Ct);
        Assert.Equal(1999.99m, figures.GetProperty("energyConsumptionTce").GetDecimal());
        var national = await _regulator.GetFromJsonAsync<JsonElement>($"/api/units/{second}/statistics/2024", Ct);
        Assert.Equal(5000, national.GetProperty("outsideNationalBoundaryEmissionsT").GetInt64());
    }

    [Fact]
    public async Task FormUpload_OfACsvFile_Imports()
    {
        var uscc = await TestUnits.RegisterAsync(_regulator);
        using var form = new MultipartFormDataContent();
        form.Add(File(Encoding.UTF8.GetBytes($"uscc,energyConsumptionTce,directEmissionsT,indirectEmissionsT\r\n{uscc},2222,5000,0\r\n"), "application/octet-stream"), "file", "2024统计.csv");

        var response = await ImportAsync(2024, form);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var figures = await _regulator.GetFromJsonAsync<JsonElement>($"/api/units/{uscc}/statistics/2024", Ct);
        Assert.Equal(2222m, figures.GetProperty("energyConsumptionTce").GetDecimal());
    }

    [Fact]
    public async Task OtherMediaType_Gives415()
    {
        var response = await ImportAsync(2024, new StringContent("{}", Encoding.UTF8, "application/json"));

        Assert.Contains("text/csv", (await response.AssertProblemAsync(HttpStatusCode.UnsupportedMediaType)).Detail);
    }

    [Fact]
    public async Task FutureYear_IsRefusedBeforeTheFileIsRead()
    {
        var response = await ImportAsync(DateTimeOffset.UtcNow.Year + 2, CsvFile("uscc,energyConsumptionTce,directEmissionsT,indirectEmissionsT\r\n"));

        await response.AssertProblemAsync(HttpStatusCode.BadRequest);
    }
}
